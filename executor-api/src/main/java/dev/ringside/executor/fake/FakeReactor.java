package dev.ringside.executor.fake; public final class FakeReactor {}
