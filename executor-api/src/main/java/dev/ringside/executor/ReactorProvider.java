package dev.ringside.executor;
public interface ReactorProvider {}
