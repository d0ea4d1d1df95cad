/**
 * System calls the JVM makes itself, through the Foreign Function &amp; Memory API: posix_spawn with
 * chosen descriptors, pipes, sealed memfds, kill, waitpid, listening sockets to pass into jails,
 * and namespace files to join. Kept in one package so the native surface of the Java side is small
 * and reviewable. No JNI, no JNA.
 */
package dev.corral.sys;
