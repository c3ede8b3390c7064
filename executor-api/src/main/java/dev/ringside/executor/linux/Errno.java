package dev.ringside.executor.linux; public final class Errno {}
