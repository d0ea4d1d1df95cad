/**
 * corral's public API: {@link dev.corral.JailBuilder} sets up a jail and starts a program in it as a
 * {@link dev.corral.JailedProcess}, a {@link java.lang.Process}.
 */
package dev.corral;
