/** The fake reactor. */
package dev.ringside.executor.fake;
