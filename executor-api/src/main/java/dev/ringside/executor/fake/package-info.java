/**
 * {@link dev.ringside.executor.fake.FakeReactor}: a reactor for unit tests, with virtual time,
 * in-memory files and pipes and scripted faults. It runs the same executor code as the real reactors
 * and passes the same contract suite.
 */
package dev.ringside.executor.fake;
