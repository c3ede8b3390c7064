package dev.ringside.reactor.uring;

/**
 * The io_uring ABI this reactor uses: syscall numbers, opcodes, flags and struct offsets, from the
 * kernel's {@code include/uapi/linux/io_uring.h}. The syscall numbers are the same on x86_64 and
 * aarch64; struct layouts are the same on every 64-bit little-endian architecture.
 */
final class Uring {
    private Uring() {
    }

    static final long SYS_SETUP = 425, SYS_ENTER = 426, SYS_REGISTER = 427;

    // Opcodes (enum io_uring_op).
    static final byte OP_NOP = 0, OP_READV = 1, OP_WRITEV = 2, OP_FSYNC = 3, OP_POLL_ADD = 6,
            OP_ASYNC_CANCEL = 14, OP_FALLOCATE = 17, OP_OPENAT = 18, OP_READ = 22, OP_WRITE = 23, OP_SEND = 26,
            OP_RECV = 27;
    /** Exactly the opcodes the reactor submits: the ring's allowlist. */
    static final byte[] ALLOWED_OPS = {OP_NOP, OP_READV, OP_WRITEV, OP_FSYNC, OP_POLL_ADD, OP_ASYNC_CANCEL,
            OP_FALLOCATE, OP_READ, OP_WRITE, OP_SEND, OP_RECV};

    // io_uring_params.flags
    static final int SETUP_CQSIZE = 1 << 3, SETUP_R_DISABLED = 1 << 6, SETUP_SUBMIT_ALL = 1 << 7,
            SETUP_COOP_TASKRUN = 1 << 8, SETUP_TASKRUN_FLAG = 1 << 9, SETUP_SINGLE_ISSUER = 1 << 12,
            SETUP_DEFER_TASKRUN = 1 << 13;
    // io_uring_params.features
    static final int FEAT_SINGLE_MMAP = 1, FEAT_NODROP = 1 << 1, FEAT_EXT_ARG = 1 << 8;
    // io_uring_enter flags
    static final int ENTER_GETEVENTS = 1, ENTER_EXT_ARG = 1 << 3, ENTER_REGISTERED_RING = 1 << 4;
    // io_uring_register opcodes
    static final int REGISTER_RESTRICTIONS = 11, REGISTER_ENABLE_RINGS = 12, REGISTER_RING_FDS = 20,
            UNREGISTER_RING_FDS = 21;
    /** Exactly the register opcodes allowed once the ring is enabled: the ring-fd registration of a loop thread. */
    static final int[] ALLOWED_REGISTER_OPS = {REGISTER_RING_FDS, UNREGISTER_RING_FDS};
    // struct io_uring_restriction.opcode
    static final short RESTRICTION_REGISTER_OP = 0, RESTRICTION_SQE_OP = 1, RESTRICTION_SQE_FLAGS_ALLOWED = 2;
    // sq ring flags
    static final int SQ_CQ_OVERFLOW = 1 << 1, SQ_TASKRUN = 1 << 2;
    // fsync flags
    static final int FSYNC_DATASYNC = 1;
    // mmap offsets
    static final long OFF_SQ_RING = 0L, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;

    // struct io_uring_params (120 bytes)
    static final long PARAMS_SIZE = 120, P_SQ_ENTRIES = 0, P_CQ_ENTRIES = 4, P_FLAGS = 8, P_FEATURES = 20,
            P_SQ_OFF = 40, P_CQ_OFF = 80;
    // struct io_sqring_offsets, relative to P_SQ_OFF
    static final long SQO_HEAD = 0, SQO_TAIL = 4, SQO_RING_MASK = 8, SQO_RING_ENTRIES = 12, SQO_FLAGS = 16,
            SQO_DROPPED = 20, SQO_ARRAY = 24;
    // struct io_cqring_offsets, relative to P_CQ_OFF
    static final long CQO_HEAD = 0, CQO_TAIL = 4, CQO_RING_MASK = 8, CQO_RING_ENTRIES = 12, CQO_OVERFLOW = 16,
            CQO_CQES = 20;

    // struct io_uring_sqe (64 bytes)
    static final long SQE_SIZE = 64, SQE_OPCODE = 0, SQE_FD = 4, SQE_OFF = 8, SQE_ADDR = 16,
            SQE_LEN = 24, SQE_OP_FLAGS = 28, SQE_USER_DATA = 32;
    // struct io_uring_cqe (16 bytes)
    static final long CQE_SIZE = 16, CQE_USER_DATA = 0, CQE_RES = 8;
    // struct io_uring_restriction (16 bytes)
    static final long RESTRICTION_SIZE = 16;
    // struct io_uring_rsrc_update (16 bytes): offset (u32), resv (u32), data (u64)
    static final long RSRC_UPDATE_SIZE = 16, RU_OFFSET = 0, RU_DATA = 8;
    // struct io_uring_getevents_arg (24 bytes) and __kernel_timespec (16 bytes)
    static final long GETEVENTS_ARG_SIZE = 24, GA_TS = 16, TIMESPEC_SIZE = 16;

    static String setupFlagNames(int flags) {
        StringBuilder names = new StringBuilder();
        String[][] table = {{"CQSIZE", "" + SETUP_CQSIZE}, {"R_DISABLED", "" + SETUP_R_DISABLED},
                {"SUBMIT_ALL", "" + SETUP_SUBMIT_ALL}, {"COOP_TASKRUN", "" + SETUP_COOP_TASKRUN},
                {"TASKRUN_FLAG", "" + SETUP_TASKRUN_FLAG}, {"SINGLE_ISSUER", "" + SETUP_SINGLE_ISSUER},
                {"DEFER_TASKRUN", "" + SETUP_DEFER_TASKRUN}};
        for (String[] entry : table) {
            if ((flags & Integer.parseInt(entry[1])) != 0) {
                names.append(names.isEmpty() ? "" : "|").append(entry[0]);
            }
        }
        return names.toString();
    }
}
