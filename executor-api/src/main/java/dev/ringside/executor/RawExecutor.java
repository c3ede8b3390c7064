package dev.ringside.executor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.ServiceLoader;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

/**
 * A coroutine-style executor: one loop thread at a time runs its tasks, and a {@link Reactor} does
 * its waiting.
 *
 * <h2>The loop</h2>
 * The thread inside {@link #run()} or {@link #runUntil} is the <em>loop thread</em>; a second thread
 * calling either while one runs gets {@link IllegalStateException}. Each pass of the loop:
 * <ol>
 *   <li>stores {@code PROCESSING} in the wake state, then moves up to {@code taskBudget} items from
 *       the remote queue (a JCTools MPSC queue fed by other threads) to the local queue (an
 *       {@link ArrayDeque} fed by the loop thread), and queues the timers that are due;</li>
 *   <li>runs at most {@code taskBudget} items of the local queue (the fairness budget: a task that
 *       keeps rescheduling itself cannot keep IO completions from being reaped);</li>
 *   <li>calls {@link Reactor#waitForWork}: with deadline 0 (reap without blocking) when work is left,
 *       else, after moving the wake state from {@code PROCESSING} to {@code WAITING}, with the next
 *       timer's deadline. With {@link Builder#spinBeforeBlocking} set, a loop that has run out of work
 *       first <em>spins</em>: it keeps reaping without blocking and watching the wake state, and only
 *       blocks if nothing came by the end of the spin (see <em>Spinning</em>).</li>
 * </ol>
 *
 * <h2>Wake protocol</h2>
 * A thread that gives the loop work pushes it on the remote queue first, then swaps {@code WOKEN}
 * into the wake state and calls {@link Reactor#wake()} only if the state was {@code WAITING}, so a
 * burst of submissions costs one wake-up (a producer that sees {@code WOKEN} already skips even the
 * swap). The loop's {@code PROCESSING} to {@code WAITING} compare-and-set fails if a producer got in
 * after the queues were read, and the loop then does not block. The reactor stores {@code PROCESSING}
 * through the {@code setProcessing} callback as soon as its wait returns.
 *
 * <h2>Spinning</h2>
 * While the loop spins the wake state stays {@code PROCESSING}, so a producer pushes its work and
 * swaps in {@code WOKEN} without calling {@link Reactor#wake()}: no system call on either side, and
 * the loop sees the work as soon as it next reads the wake state. The spin ends when the state is
 * {@code WOKEN} (work from another thread, {@link #close()}, or the stage of {@link #runUntil}
 * completing: all of them signal), when an IO completion or a due timer gave the loop work, or when
 * the spin time is up; then the pass ends and the next one begins, or the loop blocks as above. The
 * reactor's non-blocking waits inside the spin get a {@code setProcessing} that does nothing: the state
 * is {@code PROCESSING} already, and a {@code WOKEN} must survive until the spin has seen it.
 *
 * <h2>Threads and confinement</h2>
 * {@code localQueue}, {@code timers}, {@code currentTask}, the live-task list and the in-flight list
 * are confined to the loop thread. Loop ownership passes between threads through {@code loopThread}
 * (an {@link AtomicReference}: releasing it and acquiring it order everything the previous owner did
 * before everything the next one does). {@code wakeState} and {@code lifecycle} are volatile and
 * change by compare-and-set or swap only.
 *
 * <h2>The file position</h2>
 * Reads and writes at {@link IoSource#CURRENT_POSITION} on a source with a position (a regular file, a
 * block device) run one at a time per source, in the order they were issued on the loop, each after the
 * one before it has completed, as successive {@code read(2)}/{@code write(2)} calls would: io_uring reads
 * the position when it issues a request and moves it when the request completes, so several in flight
 * together would all use the same position. The others wait in the source's {@code positionWaiters}
 * (state {@code WAITING_FOR_POSITION}, still in flight for cancellation and the drain: cancelling one
 * takes it out of the line, and it never reaches the reactor). Reads and writes at an offset, and
 * those on streams, which have no position, are not affected.
 *
 * <h2>Closing</h2>
 * {@link #close()} refuses new work, cancels unfinished tasks and timers, calls
 * {@link Reactor#onExecutorDrop()} and keeps the loop reaping (blocking, not spinning) until the
 * reactor reports every operation handed back or the drain deadline passes, then closes the reactor
 * and the blocking pool. Past the deadline the operations still held by the kernel are logged and their
 * memory is leaked, never freed. The drain runs on the loop thread if a loop is running (a
 * {@code runUntil} whose stage completes meanwhile drains before it returns), else on the thread
 * calling {@code close()}. A reactor bound to one thread (io_uring with {@code singleIssuer(true)})
 * refuses a drain on any other while that thread lives: {@code close()} there throws
 * {@link IllegalStateException} and leaves the executor closing (refusing work, not terminated) until
 * the bound thread runs or closes it.
 *
 * @param <R> the reactor type
 */
public final class RawExecutor<R extends Reactor> extends AbstractExecutorService
        implements ScheduledExecutorService, AutoCloseable {

    static final System.Logger LOG = System.getLogger("dev.ringside.executor");

    private static final ThreadLocal<RawExecutor<?>> CURRENT_LOOP = new ThreadLocal<>();

    private static final int PROCESSING = 0, WAITING = 1, WOKEN = 2;
    private static final int RUNNING = 0, SHUTDOWN = 1, CLOSING = 2, TERMINATED = 3;
    private static final VarHandle WAKE_STATE, LIFECYCLE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            WAKE_STATE = lookup.findVarHandle(RawExecutor.class, "wakeState", int.class);
            LIFECYCLE = lookup.findVarHandle(RawExecutor.class, "lifecycle", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final R reactor;
    private final int taskBudget;
    private final Duration drainDeadline;
    private final ThreadPoolExecutor blockingPool;
    /**
     * Work from threads other than the loop's: many producers, the loop thread consumes. The atomic
     * (field-updater) variant keeps JCTools off {@code sun.misc.Unsafe}, so no module needs
     * {@code jdk.unsupported}.
     */
    private final MessagePassingQueue<Object> remoteQueue = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final AtomicReference<Thread> loopThread = new AtomicReference<>();
    /**
     * The thread inside {@code run}/{@code runUntil} whose reactor accepted it ({@code onThreadStart}
     * returned), until it has left and checked for a pending close; else null. Written by that thread
     * only; read by {@link #close()} to decide who drains (see {@link #drainIfClosedWhileRunning}).
     */
    private volatile Thread loopOwner;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicLong timerSequence = new AtomicLong();
    /** The reactor runs this when its wait returns; the fenced store is skipped when nothing changed. */
    private final Runnable setProcessing = this::setProcessing;
    /** The {@code setProcessing} of the spin's non-blocking waits (see <em>Spinning</em>). */
    private static final Runnable STILL_PROCESSING = () -> { };
    /** How long the loop spins once it runs out of work, in nanoseconds; 0: it blocks at once. */
    private final long spinNanos;

    /** PROCESSING, WAITING or WOKEN; see the class comment. */
    @SuppressWarnings("unused") // accessed through WAKE_STATE
    private volatile int wakeState = PROCESSING;
    /** RUNNING, SHUTDOWN, CLOSING, TERMINATED: only ever increases. */
    private volatile int lifecycle = RUNNING;

    // Loop-confined.
    private final ArrayDeque<Object> localQueue = new ArrayDeque<>();
    private final MessagePassingQueue.Consumer<Object> toLocalQueue = localQueue::addLast;
    private final PriorityQueue<ScheduledTask<?>> timers = new PriorityQueue<>(Comparator.naturalOrder());
    private Task<?> currentTask;
    private Task<?> liveTasks;
    private IoOperation inFlight;
    private int inFlightCount;
    private boolean periodicCancelled;
    private final List<Runnable> abandoned = new ArrayList<>();

    private RawExecutor(R reactor, Builder<R> builder) {
        this.reactor = reactor;
        this.taskBudget = builder.taskBudget;
        this.drainDeadline = builder.drainDeadline;
        this.spinNanos = builder.spinBeforeBlocking.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0
                ? Long.MAX_VALUE : builder.spinBeforeBlocking.toNanos();
        this.blockingPool = new ThreadPoolExecutor(builder.blockingThreads, builder.blockingThreads,
                10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), new BlockingThreadFactory());
        this.blockingPool.allowCoreThreadTimeOut(true);
    }

    // ---------------------------------------------------------------- creation

    /** An executor driving the reactor {@code factory} creates, with default settings. */
    public static <R extends Reactor> RawExecutor<R> create(ReactorFactory<R> factory) throws IOException {
        return builder(factory).build();
    }

    /** A builder for an executor driving the reactor {@code factory} creates. */
    public static <R extends Reactor> Builder<R> builder(ReactorFactory<R> factory) {
        return new Builder<>(factory);
    }

    /**
     * An executor on the best reactor available here: the {@link ReactorProvider}s found by
     * {@link ServiceLoader} (module path and class path), highest priority first, skipping those whose
     * probe reports them unavailable (logged with the reason). The system property
     * {@value ReactorProvider#SELECTION_PROPERTY} forces one by name.
     *
     * @throws IOException if no provider can create a reactor; the message gives every reason
     */
    public static RawExecutor<?> createDefault() throws IOException {
        String forced = System.getProperty(ReactorProvider.SELECTION_PROPERTY);
        List<ReactorProvider> providers = new ArrayList<>();
        ServiceLoader.load(ReactorProvider.class, RawExecutor.class.getClassLoader()).forEach(providers::add);
        providers.sort(Comparator.comparingInt(ReactorProvider::priority).reversed());
        StringBuilder reasons = new StringBuilder();
        for (ReactorProvider provider : providers) {
            if (forced != null && !forced.isBlank() && !forced.equals(provider.name())) {
                continue;
            }
            Optional<String> cause = provider.unavailabilityCause();
            if (cause.isPresent()) {
                LOG.log(System.Logger.Level.INFO, "reactor {0} is unavailable: {1}", provider.name(), cause.get());
                reasons.append("; ").append(provider.name()).append(": ").append(cause.get());
                continue;
            }
            try {
                RawExecutor<?> executor = create(provider.factory());
                LOG.log(System.Logger.Level.DEBUG, "using reactor {0}", provider.name());
                return executor;
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "reactor {0} failed to start: {1}", provider.name(), e.toString());
                reasons.append("; ").append(provider.name()).append(": ").append(e);
            }
        }
        String what = forced != null && !forced.isBlank()
                ? "the reactor forced by -D" + ReactorProvider.SELECTION_PROPERTY + "=" + forced
                : "any reactor";
        String why = reasons.isEmpty()
                ? (providers.isEmpty() ? "no ReactorProvider found: put dev.ringside.reactor.uring or "
                        + "dev.ringside.reactor.poll on the module path or class path"
                        : "no ReactorProvider is named " + forced)
                : reasons.substring(2);
        throw new IOException("RawExecutor.createDefault: cannot use " + what + ": " + why);
    }

    /** Settings of a new executor. */
    public static final class Builder<R extends Reactor> {
        private final ReactorFactory<R> factory;
        private int taskBudget = 256;
        private Duration drainDeadline = Duration.ofSeconds(5);
        private int blockingThreads = 64;
        private Duration spinBeforeBlocking = Duration.ZERO;

        private Builder(ReactorFactory<R> factory) {
            this.factory = Objects.requireNonNull(factory, "factory");
        }

        /** Items the loop runs per pass before it reaps IO again (default 256). */
        public Builder<R> taskBudget(int taskBudget) {
            if (taskBudget < 1) {
                throw new IllegalArgumentException("taskBudget must be at least 1: " + taskBudget);
            }
            this.taskBudget = taskBudget;
            return this;
        }

        /** How long {@link #close()} waits for the kernel to hand operations back (default 5 s). */
        public Builder<R> drainDeadline(Duration drainDeadline) {
            if (drainDeadline.isNegative()) {
                throw new IllegalArgumentException("drainDeadline must not be negative: " + drainDeadline);
            }
            this.drainDeadline = drainDeadline;
            return this;
        }

        /** Threads of the pool that runs {@link #spawnBlocking} work (default 64). */
        public Builder<R> blockingThreads(int blockingThreads) {
            if (blockingThreads < 1) {
                throw new IllegalArgumentException("blockingThreads must be at least 1: " + blockingThreads);
            }
            this.blockingThreads = blockingThreads;
            return this;
        }

        /**
         * How long a loop that has run out of work spins before it blocks in its reactor (default zero:
         * it blocks at once). While it spins it reaps IO without blocking and watches for work from
         * other threads, which reaches it without a wake-up through the kernel: the producers find the
         * loop busy and skip {@link Reactor#wake()}. The spin ends as soon as there is work, when the
         * next timer is due, or after this long.
         *
         * <p>This trades CPU for latency. Where waking a parked thread costs tens of microseconds, a
         * spinning loop picks up work from another thread in well under one; in exchange its thread stays
         * busy for up to this long each time it runs out of work, and on the epoll reactor every
         * non-blocking reap in the spin is an {@code epoll_wait} call. The io_uring reactor reaps from
         * shared memory, entering the kernel only when it has something to submit, when the kernel flags
         * work for it, and once every few hundred reaps, if its ring was granted {@code TASKRUN_FLAG}
         * without {@code DEFER_TASKRUN} (the default ring on Linux 5.19 and later); otherwise every reap
         * is an {@code io_uring_enter}. {@code WakeLatencyBenchmark} measures both choices.
         *
         * <p>The spin is timed by the system clock ({@link System#nanoTime()}), timers by the reactor's
         * ({@link Reactor#nanoTime()}). They are the same clock except on the fake reactor, whose virtual
         * time moves only while the loop blocks: there a spin holds virtual time still for its length.
         *
         * @throws IllegalArgumentException if negative
         */
        public Builder<R> spinBeforeBlocking(Duration spinBeforeBlocking) {
            if (spinBeforeBlocking.isNegative()) {
                throw new IllegalArgumentException("spinBeforeBlocking must not be negative: " + spinBeforeBlocking);
            }
            this.spinBeforeBlocking = spinBeforeBlocking;
            return this;
        }

        /** Creates the reactor and the executor. */
        public RawExecutor<R> build() throws IOException {
            R reactor = Objects.requireNonNull(factory.create(), "the ReactorFactory returned null");
            return new RawExecutor<>(reactor, this);
        }
    }

    // ---------------------------------------------------------------- public API

    /** This executor's reactor. */
    public R reactor() {
        return reactor;
    }

    /** Whether the calling thread is this executor's loop thread right now. */
    public boolean isLoopThread() {
        return loopThread.get() == Thread.currentThread();
    }

    /**
     * Spawns a task: {@code body} runs once on the loop thread and returns the stage whose result the
     * task completes with. Any thread. A task spawned by another task of this executor is its child:
     * cancelling the parent cancels it.
     *
     * @throws ExecutorClosedException if the executor is shut down or closed
     */
    public <T> Task<T> spawn(Callable<? extends CompletionStage<T>> body) {
        Objects.requireNonNull(body, "body");
        checkAccepting("spawn");
        Task<?> parent = isLoopThread() ? currentTask : null;
        Task<T> task = new Task<>(this, body, parent);
        if (parent != null) {
            parent.addChild(task);
        }
        enqueue(task);
        return task;
    }

    /**
     * Runs blocking {@code body} on the executor's bounded blocking pool; the task completes on the
     * loop thread with its result. Cancelling the task interrupts the pool thread.
     */
    public <T> Task<T> spawnBlocking(Callable<T> body) {
        Objects.requireNonNull(body, "body");
        return spawn(() -> {
            CompletableFuture<T> result = new CompletableFuture<>();
            Future<?> work = blockingPool.submit(() -> {
                try {
                    T value = body.call();
                    onLoop(() -> result.complete(value));
                } catch (Throwable failure) {
                    onLoop(() -> result.completeExceptionally(failure));
                }
            });
            // The task cancels its stage, result, when it is cancelled; that interrupts the pool thread.
            result.whenComplete((value, failure) -> {
                if (result.isCancelled()) {
                    work.cancel(true);
                }
            });
            return result;
        });
    }

    /**
     * Runs the loop on this thread until {@code stage} completes, and returns its result as
     * {@link CompletableFuture#join()} would (throwing {@link java.util.concurrent.CompletionException}
     * or {@link CancellationException}). Returns at once if it is already complete. If {@link #close()}
     * is called meanwhile (from a task or another thread), this loop drains the executor before it
     * returns, which can take up to the drain deadline.
     *
     * @throws IllegalStateException if another thread runs the loop, or this thread is running it
     * @throws ExecutorClosedException if the executor closed before the stage completed
     * @throws UncheckedIOException if the reactor failed
     */
    public <T> T runUntil(CompletionStage<T> stage) {
        CompletableFuture<T> until = stage.toCompletableFuture();
        if (until.isDone()) {
            return until.join();
        }
        if (lifecycle == TERMINATED) {
            throw new ExecutorClosedException("runUntil: the executor is closed");
        }
        until.whenComplete((value, failure) -> signal());
        driveLoop(until);
        if (until.isDone()) {
            return until.join();
        }
        throw new ExecutorClosedException("runUntil: the executor closed before the stage completed");
    }

    /**
     * Runs the loop on this thread until the executor terminates ({@link #close()}, or
     * {@link #shutdown()} once no work is left). Returns at once if it is already terminated.
     *
     * @throws IllegalStateException if another thread runs the loop, or this thread is running it
     * @throws UncheckedIOException if the reactor failed
     */
    public void run() {
        if (lifecycle != TERMINATED) {
            driveLoop(null);
        }
    }

    /**
     * Wraps {@code fd} as an IO source of this executor. The source owns {@code fd} from now on: the
     * descriptor is closed once the source is closed and no operation holds it. If this throws, the
     * caller still owns {@code fd}.
     *
     * @throws IllegalArgumentException if {@code fd} is registered already (one {@code Fd}, one source;
     *         {@link Fd#dup()} gives a second descriptor of the same file)
     */
    public IoSource register(Fd fd) throws IOException {
        Objects.requireNonNull(fd, "fd");
        checkAccepting("register");
        if (!fd.claimRegistration(false)) {
            throw new IllegalArgumentException("register: " + fd + " is registered already (a source owns it); "
                    + "register an Fd once, or a duplicate of it (Fd.dup())");
        }
        try {
            return reactor.newSource(this, fd);
        } catch (IOException | RuntimeException e) {
            fd.claimRegistration(true);
            throw e;
        }
    }

    /**
     * A future that completes on the loop thread once {@code duration} has passed on the reactor's
     * clock. Issued by a task, it is cancelled with the task.
     */
    public CompletableFuture<Void> sleep(Duration duration) {
        checkAccepting("sleep");
        boolean inLoop = isLoopThread();
        Task<?> owner = inLoop ? currentTask : null;
        ScheduledTask<Void> timer = new ScheduledTask<>(this, null, deadlineAfter(TimeUnit.NANOSECONDS.convert(duration)), 0,
                timerSequence.getAndIncrement(), owner);
        if (owner != null) {
            owner.addChild(timer);
        }
        addTimer(timer);
        return timer;
    }

    /** Queues {@code command} for the loop; never runs it inline. Any thread. */
    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        checkAccepting("execute");
        enqueue(command);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        return schedule(Executors.callable(command), delay, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        Objects.requireNonNull(callable, "callable");
        return newTimer(callable, delay, 0, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        if (period <= 0) {
            throw new IllegalArgumentException("scheduleAtFixedRate: period must be positive: " + period);
        }
        return newTimer(Executors.callable(command), initialDelay, unit.toNanos(period), unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        if (delay <= 0) {
            throw new IllegalArgumentException("scheduleWithFixedDelay: delay must be positive: " + delay);
        }
        return newTimer(Executors.callable(command), initialDelay, -unit.toNanos(delay), unit);
    }

    private <V> ScheduledFuture<V> newTimer(Callable<V> callable, long delay, long period, TimeUnit unit) {
        checkAccepting("schedule");
        ScheduledTask<V> timer = new ScheduledTask<>(this, callable, deadlineAfter(unit.toNanos(delay)), period,
                timerSequence.getAndIncrement(), null);
        addTimer(timer);
        return timer;
    }

    /**
     * Stops accepting work from other threads; tasks already given finish (they may still issue IO,
     * sleep and queue work from the loop thread), delayed one-shot timers still run, periodic timers
     * are cancelled. The loop terminates the executor once nothing is left; a loop must be running for
     * that ({@link #run()}), or call {@link #close()}.
     */
    @Override
    public void shutdown() {
        LIFECYCLE.compareAndSet(this, RUNNING, SHUTDOWN);
        signal();
    }

    /**
     * {@link #close()}, returning the runnables given with {@link #execute} that never started. Blocks
     * like {@code close()}; called from the loop thread it cannot wait and returns an empty list.
     */
    @Override
    public List<Runnable> shutdownNow() {
        close();
        synchronized (abandoned) {
            return List.copyOf(abandoned);
        }
    }

    @Override
    public boolean isShutdown() {
        return lifecycle >= SHUTDOWN;
    }

    @Override
    public boolean isTerminated() {
        return lifecycle == TERMINATED;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    /**
     * Closes the executor: refuses new work with {@link ExecutorClosedException}, cancels unfinished
     * tasks and timers, drains the reactor (see the class comment), closes it and stops the blocking
     * pool. Any thread, idempotent. Returns once the executor is terminated, except when called from
     * the loop thread itself (from a task), where it returns at once and the loop drains after the
     * current item. As {@link java.util.concurrent.ExecutorService#close()}, an interrupt while it waits
     * for another thread's loop to drain does not end the wait (everything is being cancelled already);
     * the thread's interrupt status is set again when it returns.
     *
     * @throws IllegalStateException if no loop is running and the reactor refuses this thread
     *         ({@link Reactor#onThreadStart()}, e.g. it is bound to another); the executor stays closing,
     *         and a {@code close()} on the bound thread finishes it
     */
    @Override
    public void close() {
        int state;
        while ((state = lifecycle) < CLOSING && !LIFECYCLE.compareAndSet(this, state, CLOSING)) {
            Thread.onSpinWait();
        }
        signal();
        Thread me = Thread.currentThread();
        boolean interrupted = false;
        try {
            while (lifecycle != TERMINATED) {
                if (loopThread.get() == me) {
                    return;
                }
                // A loop that ran on its thread drains, even one on its way out (drainIfClosedWhileRunning);
                // only when none is left (a thread refused by the reactor never counts) does this thread.
                if (loopOwner == null && loopThread.compareAndSet(null, me)) {
                    drainOnThisThread(me);
                    return;
                }
                signal();
                try {
                    if (terminated.await(20, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true; // as ExecutorService.close: keep waiting, then interrupt again
                }
            }
        } finally {
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "RawExecutor[" + reactor.getClass().getSimpleName() + ", "
                + switch (lifecycle) {
                    case RUNNING -> "running";
                    case SHUTDOWN -> "shut down";
                    case CLOSING -> "closing";
                    default -> "terminated";
                } + "]";
    }

    // ---------------------------------------------------------------- package-private plumbing

    /** The executor whose loop the calling thread is running, or null. */
    static RawExecutor<?> currentLoop() {
        return CURRENT_LOOP.get();
    }

    /** Loop thread: the task whose code is running now, or null. */
    Task<?> currentTask() {
        return currentTask;
    }

    boolean inLoop() {
        return loopThread.get() == Thread.currentThread();
    }

    /** Loop thread: makes {@code task} current; returns the previous one for {@link #exitTask}. */
    Task<?> enterTask(Task<?> task) {
        Task<?> previous = currentTask;
        currentTask = task;
        return previous;
    }

    void exitTask(Task<?> previous) {
        currentTask = previous;
    }

    /**
     * Throws {@link ExecutorClosedException} unless work is accepted: always while running; after
     * {@link #shutdown()} only from the loop thread (tasks finishing their work); never once closing.
     */
    void checkAccepting(String call) {
        int state = lifecycle;
        if (state >= CLOSING || (state == SHUTDOWN && !inLoop())) {
            throw new ExecutorClosedException(call + ": the executor is " + (state == SHUTDOWN ? "shut down" : "closed"));
        }
    }

    /** Runs {@code action} on the loop: now if this is the loop thread, else queued. */
    void onLoop(LoopAction action) {
        if (inLoop()) {
            action.run();
        } else {
            enqueue(action);
        }
    }

    /**
     * Queues a completed operation for the loop, which runs {@link IoOperation#deliver} (never inline,
     * so reactors never run user code). The operation is its own queue entry: no allocation.
     */
    void deliver(IoOperation operation) {
        enqueue(operation);
    }

    private void enqueue(Object item) {
        if (inLoop()) {
            localQueue.addLast(item);
            return;
        }
        remoteQueue.offer(item);
        signal();
        if (lifecycle == TERMINATED) {
            sweepAfterTermination();
        }
    }

    /** The producer half of the wake protocol. Any thread. */
    private void signal() {
        if ((int) WAKE_STATE.getVolatile(this) != WOKEN && (int) WAKE_STATE.getAndSet(this, WOKEN) == WAITING) {
            reactor.wake();
        }
    }

    /** Any thread: hands {@code operation} to the loop, which starts it; {@code inLoop}: this is the loop thread. */
    void startOperation(IoOperation operation, boolean inLoop) {
        if (inLoop) {
            startOnLoop(operation);
        } else {
            enqueue((LoopAction) () -> startOnLoop(operation));
        }
    }

    private void startOnLoop(IoOperation operation) {
        if (operation.isDone()) { // cancelled, or finished from outside (IoOperation.complete(Object))
            operation.abandon(new CancellationException());
            return;
        }
        if (lifecycle >= CLOSING) {
            operation.abandon(new ExecutorClosedException(operation.kind().call() + ": the executor is closed"));
            return;
        }
        if (!operation.source.isSeekable() && operation.offset() != IoSource.CURRENT_POSITION
                && (operation.kind() == IoOperation.Kind.READ || operation.kind() == IoOperation.Kind.WRITE)) {
            operation.complete(-29); // ESPIPE, as pread(2) and pwrite(2) report it
            return;
        }
        operation.state = IoOperation.STARTED;
        linkInFlight(operation);
        if (operation.offset() == IoSource.CURRENT_POSITION && operation.source.isSeekable()
                && (operation.kind() == IoOperation.Kind.READ || operation.kind() == IoOperation.Kind.WRITE)) {
            AbstractIoSource source = operation.source;
            if (source.positionHolder != null) { // waits its turn (see "The file position")
                operation.state = IoOperation.WAITING_FOR_POSITION;
                if (source.positionWaiters == null) {
                    source.positionWaiters = new ArrayDeque<>();
                }
                source.positionWaiters.addLast(operation);
                return;
            }
            source.positionHolder = operation;
        }
        startInReactor(operation);
    }

    /** Loop thread: hands a started {@code operation} to its source's reactor. */
    private void startInReactor(IoOperation operation) {
        try {
            operation.source.start(operation);
        } catch (Throwable failure) {
            LOG.log(System.Logger.Level.ERROR, "reactor failed to start " + operation, failure);
            if (operation.state != IoOperation.DONE) {
                unlinkInFlight(operation);
                operation.abandon(failure);
            }
        }
    }

    /**
     * Loop thread: {@code operation} has finished (or given up); if it held its source's current
     * position, the next read or write waiting for it starts, on this loop's next pass.
     */
    void releasePosition(IoOperation operation) {
        AbstractIoSource source = operation.source;
        if (source.positionHolder != operation) {
            return;
        }
        IoOperation next = source.positionWaiters == null ? null : source.positionWaiters.pollFirst();
        source.positionHolder = next;
        if (next != null) {
            enqueue((LoopAction) () -> {
                if (next.state == IoOperation.WAITING_FOR_POSITION) { // not cancelled meanwhile
                    next.state = IoOperation.STARTED;
                    startInReactor(next);
                }
            });
        }
    }

    /** Any thread: the operation's future was cancelled; ask the reactor to cancel it. */
    void requestCancel(IoOperation operation) {
        onLoop(() -> {
            if (operation.state == IoOperation.WAITING_FOR_POSITION) { // never reached the reactor
                if (operation.source.positionHolder != operation) {
                    operation.source.positionWaiters.remove(operation);
                } // else it was next: abandon passes the position on
                unlinkInFlight(operation);
                operation.abandon(new CancellationException());
                return;
            }
            if (operation.state == IoOperation.STARTED) {
                operation.state = IoOperation.CANCEL_REQUESTED;
                try {
                    operation.source.cancel(operation);
                } catch (Throwable failure) {
                    LOG.log(System.Logger.Level.ERROR, "reactor failed to cancel " + operation, failure);
                }
            }
        });
    }

    private void linkInFlight(IoOperation operation) {
        operation.nextInFlight = inFlight;
        if (inFlight != null) {
            inFlight.prevInFlight = operation;
        }
        inFlight = operation;
        inFlightCount++;
    }

    /** Loop thread. */
    void unlinkInFlight(IoOperation operation) {
        IoOperation prev = operation.prevInFlight, next = operation.nextInFlight;
        if (prev == null && next == null && inFlight != operation) {
            return; // not linked
        }
        if (prev != null) {
            prev.nextInFlight = next;
        } else {
            inFlight = next;
        }
        if (next != null) {
            next.prevInFlight = prev;
        }
        operation.prevInFlight = operation.nextInFlight = null;
        inFlightCount--;
    }

    /** Loop thread: {@code task} started running. */
    void linkLive(Task<?> task) {
        if (task.linked) {
            return;
        }
        task.linked = true;
        task.nextLive = liveTasks;
        if (liveTasks != null) {
            liveTasks.prevLive = task;
        }
        liveTasks = task;
    }

    /** Loop thread: {@code task} finished. */
    void unlinkLive(Task<?> task) {
        if (!task.linked) {
            return;
        }
        task.linked = false;
        Task<?> prev = task.prevLive, next = task.nextLive;
        if (prev != null) {
            prev.nextLive = next;
        } else {
            liveTasks = next;
        }
        if (next != null) {
            next.prevLive = prev;
        }
        task.prevLive = task.nextLive = null;
    }

    private void addTimer(ScheduledTask<?> timer) {
        onLoop(() -> {
            if (timer.isPeriodic() && lifecycle >= SHUTDOWN) {
                timer.cancel(false); // accepted before shutdown(), reached the loop after: periodic timers end there
            } else if (!timer.isDone()) {
                timers.add(timer);
            }
        });
    }

    /** Loop thread: puts a periodic timer back; false once the executor is shut down. */
    boolean reschedule(ScheduledTask<?> timer) {
        if (lifecycle >= SHUTDOWN) {
            return false;
        }
        timers.add(timer);
        return true;
    }

    /** Loop thread. */
    void removeTimer(ScheduledTask<?> timer) {
        timers.remove(timer);
    }

    private long deadlineAfter(long delayNanos) {
        long now = reactor.nanoTime();
        long delay = Math.max(0, delayNanos);
        long deadline = now + delay;
        return deadline < now ? Long.MAX_VALUE - 1 : deadline; // saturate; MAX_VALUE means no deadline
    }

    // ---------------------------------------------------------------- the loop

    private void driveLoop(CompletableFuture<?> until) {
        Thread me = Thread.currentThread();
        if (!loopThread.compareAndSet(null, me)) {
            Thread owner = loopThread.get();
            throw new IllegalStateException(owner == me
                    ? "this thread is already running the executor's loop (a task cannot run or runUntil its own executor)"
                    : "another thread (" + owner + ") is running the executor's loop");
        }
        RawExecutor<?> outer = CURRENT_LOOP.get();
        CURRENT_LOOP.set(this);
        boolean ran = false;
        try {
            reactor.onThreadStart();
            ran = true;
            loopOwner = me;
            try {
                loop(until);
            } finally {
                stopOnThread();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the reactor failed", e);
        } finally {
            CURRENT_LOOP.set(outer);
            releaseLoop();
            if (ran) {
                try {
                    drainIfClosedWhileRunning(me);
                } finally {
                    loopOwner = null; // after the lifecycle was read: see drainIfClosedWhileRunning
                }
            }
        }
    }

    /**
     * The loop just left this thread. A {@code close()} that saw it running leaves the drain to it
     * (see {@link #close()}); if that close came after the loop's last look at the lifecycle, the loop
     * has left undrained, so this thread takes the loop back and drains. {@code loopOwner} is cleared
     * only after the lifecycle was read here, and {@code close()} takes the loop itself only once it
     * reads {@code loopOwner} null after the lifecycle became {@code CLOSING}: so either this read saw
     * {@code CLOSING} and this thread drained, or the close came after the loop had stopped looking and
     * the closing thread drains (both fields are volatile: of two threads that each write one and then
     * read the other, at least one sees the other's write).
     */
    private void drainIfClosedWhileRunning(Thread me) {
        while (lifecycle == CLOSING) {
            if (loopThread.compareAndSet(null, me)) {
                try {
                    drainOnThisThread(me);
                } catch (RuntimeException e) { // never hide why the loop itself ended
                    LOG.log(System.Logger.Level.ERROR, "draining after the loop left failed", e);
                }
                return;
            }
            LockSupport.parkNanos(50_000); // another thread holds the loop (a close draining, or a refused run)
        }
    }

    /** Holding the loop (taken by {@code me}): drains and terminates here, then lets go of the loop. */
    private void drainOnThisThread(Thread me) {
        RawExecutor<?> outer = CURRENT_LOOP.get();
        CURRENT_LOOP.set(this);
        try {
            if (lifecycle != TERMINATED) {
                reactor.onThreadStart();
                try {
                    drainAndTerminate();
                } finally {
                    stopOnThread();
                }
            }
        } finally {
            CURRENT_LOOP.set(outer);
            releaseLoop();
        }
    }

    /**
     * Lets go of the loop. Once terminated, work queued by a thread that found the loop taken (and so
     * could not sweep it itself) is swept here, so nothing queued after termination is stranded.
     */
    private void releaseLoop() {
        loopThread.set(null);
        if (lifecycle == TERMINATED && !remoteQueue.isEmpty()) {
            sweepAfterTermination();
        }
    }

    private void stopOnThread() {
        try {
            reactor.onThreadStop();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reactor failed to leave the loop thread", e);
        }
    }

    /**
     * Loop thread: wake-ups need not reach the reactor now. A state already PROCESSING needs no store:
     * a producer that moves it to WOKEN after this read makes the loop's next compare-and-set to
     * WAITING fail, so the loop does not block, and the next pass stores PROCESSING.
     */
    private void setProcessing() {
        if ((int) WAKE_STATE.getVolatile(this) != PROCESSING) {
            WAKE_STATE.setVolatile(this, PROCESSING);
        }
    }

    private void loop(CompletableFuture<?> until) throws IOException {
        while (true) {
            setProcessing();
            int state = lifecycle;
            if (state >= CLOSING) {
                if (state == CLOSING) {
                    drainAndTerminate();
                }
                return;
            }
            if (state == SHUTDOWN && !periodicCancelled) {
                periodicCancelled = true;
                for (ScheduledTask<?> timer : timers.toArray(ScheduledTask<?>[]::new)) {
                    if (timer.isPeriodic()) {
                        timer.cancel(false);
                    }
                }
            }
            remoteQueue.drain(toLocalQueue, taskBudget);
            queueDueTimers();
            runBatch();
            if (until != null && until.isDone()) {
                if (lifecycle == CLOSING) {
                    continue; // a close() is waiting for this loop (or came from a task): drain first
                }
                return;
            }
            if (state == SHUTDOWN && quiescent()) {
                LIFECYCLE.compareAndSet(this, SHUTDOWN, CLOSING);
                continue;
            }
            long deadline = 0;
            if (localQueue.isEmpty() && remoteQueue.isEmpty()) {
                deadline = nextTimerDeadline();
                if (spinNanos > 0 && spinUntilWork(deadline)) {
                    continue;
                }
                if (!WAKE_STATE.compareAndSet(this, PROCESSING, WAITING)) {
                    deadline = 0;
                }
            }
            reactor.waitForWork(deadline, setProcessing);
        }
    }

    /**
     * The idle loop's spin (see <em>Spinning</em> in the class comment): reaps IO without blocking while
     * operations are in flight, until the wake state is {@code WOKEN}, a completion or a due timer gave
     * the loop work, or {@link #spinNanos} have passed. Returns whether it stopped for work.
     */
    private boolean spinUntilWork(long timerDeadline) throws IOException {
        long start = System.nanoTime();
        while (true) {
            if (inFlightCount > 0) {
                reactor.waitForWork(0, STILL_PROCESSING);
            }
            if ((int) WAKE_STATE.getVolatile(this) == WOKEN || !localQueue.isEmpty()
                    || (timerDeadline != Reactor.NO_DEADLINE && reactor.nanoTime() - timerDeadline >= 0)) {
                return true;
            }
            if (System.nanoTime() - start >= spinNanos) {
                return false;
            }
            Thread.onSpinWait();
        }
    }

    private int runBatch() {
        int ran = 0;
        Object item;
        while (ran < taskBudget && (item = localQueue.pollFirst()) != null) {
            ran++;
            runItem(item);
        }
        return ran;
    }

    private void runItem(Object item) {
        if (lifecycle >= CLOSING && !(item instanceof LoopAction || item instanceof IoOperation)) {
            discard(item);
            return;
        }
        try {
            if (item instanceof IoOperation operation) {
                operation.deliver(this);
            } else if (item instanceof Task<?> task) {
                task.runBody();
            } else {
                ((Runnable) item).run();
            }
        } catch (Throwable failure) {
            LOG.log(System.Logger.Level.WARNING, "a runnable given to the executor threw", failure);
        }
    }

    /**
     * While closing: a task or timer that never ran is cancelled; a user runnable is set aside for
     * {@link #shutdownNow()}, and cancelled too if it is a {@link Future}.
     */
    private void discard(Object item) {
        switch (item) {
            case Task<?> task -> task.cancel(false);
            case ScheduledTask<?> timer -> timer.cancel(false);
            case Runnable runnable -> {
                synchronized (abandoned) {
                    abandoned.add(runnable);
                }
                if (runnable instanceof Future<?> future) {
                    future.cancel(false); // e.g. a submit()ted FutureTask: its waiters must not hang
                }
            }
            default -> throw new AssertionError(item);
        }
    }

    private void queueDueTimers() {
        if (timers.isEmpty()) {
            return;
        }
        long now = reactor.nanoTime();
        ScheduledTask<?> timer;
        while ((timer = timers.peek()) != null && timer.deadline() - now <= 0) {
            timers.poll();
            if (!timer.isDone()) {
                localQueue.addLast(timer);
            }
        }
    }

    private long nextTimerDeadline() {
        ScheduledTask<?> timer;
        while ((timer = timers.peek()) != null && timer.isDone()) {
            timers.poll();
        }
        return timer == null ? Reactor.NO_DEADLINE : Math.max(1, timer.deadline());
    }

    private boolean quiescent() {
        nextTimerDeadline(); // drops cancelled timers
        return localQueue.isEmpty() && remoteQueue.isEmpty() && timers.isEmpty() && liveTasks == null
                && inFlightCount == 0;
    }

    /** Loop thread (or the closing thread owning the loop), lifecycle CLOSING. */
    private void drainAndTerminate() {
        drainRemoteQueue();
        runAll();
        for (ScheduledTask<?> timer : timers.toArray(ScheduledTask<?>[]::new)) {
            timer.cancel(false);
        }
        timers.clear();
        while (liveTasks != null) {
            Task<?> task = liveTasks;
            if (!task.cancel(false)) {
                unlinkLive(task);
            }
        }
        // Operations no task owns fail with CancellationException too; the reactor drain below
        // cancels them in the kernel, and their memory stays held until the kernel hands it back.
        for (IoOperation op = inFlight, next; op != null; op = next) {
            next = op.nextInFlight; // a reactor may complete (and unlink) the operation inside cancel
            op.cancel(false);
        }
        CompletableFuture<Void> drained;
        try {
            drained = reactor.onExecutorDrop().toCompletableFuture();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reactor failed to start its drain", e);
            drained = CompletableFuture.failedFuture(e);
        }
        drained.whenComplete((value, failure) -> signal());
        long deadline = deadlineAfter(drainDeadline.toNanos());
        while (!drained.isDone()) {
            WAKE_STATE.setVolatile(this, PROCESSING);
            drainRemoteQueue();
            runAll();
            if (drained.isDone() || reactor.nanoTime() - deadline >= 0) {
                break;
            }
            long waitUntil = deadline;
            if (!localQueue.isEmpty() || !remoteQueue.isEmpty() || !WAKE_STATE.compareAndSet(this, PROCESSING, WAITING)) {
                waitUntil = 0;
            }
            try {
                reactor.waitForWork(waitUntil, setProcessing);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "reactor failed while draining", e);
                break;
            }
        }
        drainRemoteQueue();
        runAll();
        if (inFlightCount > 0 || !drained.isDone()) {
            StringBuilder held = new StringBuilder();
            int listed = 0;
            for (IoOperation op = inFlight; op != null && listed < 16; op = op.nextInFlight, listed++) {
                held.append("\n  ").append(op);
            }
            LOG.log(System.Logger.Level.WARNING, "drain deadline of {0} passed with {1} operations still held by "
                    + "the kernel; their memory and descriptors are leaked, never freed:{2}",
                    drainDeadline, inFlightCount, held);
        }
        try {
            reactor.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "reactor failed to close", e);
        }
        blockingPool.shutdownNow();
        lifecycle = TERMINATED;
        drainRemoteQueue();
        runAll();
        terminated.countDown();
    }

    /**
     * Moves everything in the remote queue to the local one: JCTools' {@code drain(Consumer)} moves at
     * most 4096 items a call, and a close must account for every item accepted before it.
     */
    private void drainRemoteQueue() {
        while (remoteQueue.drain(toLocalQueue) > 0) {
            // again, until a call finds the queue empty
        }
    }

    /** Runs the local queue until it is empty (closing: user runnables are discarded, not run). */
    private void runAll() {
        Object item;
        while ((item = localQueue.pollFirst()) != null) {
            runItem(item);
        }
    }

    /**
     * Work queued after termination: whoever can take the loop handles it here. A producer pushes its
     * item before it tries to take the loop, and whoever holds the loop looks at the queue again after
     * letting go, so an item is always swept: by its producer, or by the holder that made it fail.
     */
    private void sweepAfterTermination() {
        Thread me = Thread.currentThread();
        while (loopThread.compareAndSet(null, me)) {
            try {
                drainRemoteQueue();
                runAll();
            } finally {
                loopThread.set(null);
            }
            if (remoteQueue.isEmpty()) {
                return;
            }
        }
    }

    private static final class BlockingThreadFactory implements ThreadFactory {
        private static final AtomicInteger POOL_NUMBER = new AtomicInteger();
        private final int pool = POOL_NUMBER.incrementAndGet();
        private final AtomicInteger thread = new AtomicInteger();

        @Override
        public Thread newThread(Runnable work) {
            Thread t = new Thread(work, "ringside-blocking-" + pool + "-" + thread.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
