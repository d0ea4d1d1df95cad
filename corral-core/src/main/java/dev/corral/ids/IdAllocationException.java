package dev.corral.ids;

/**
 * An id range could not be allocated or released: the pool is exhausted or undefined, or the
 * allocation file cannot be read or written. The message says which and what to do.
 */
public final class IdAllocationException extends Exception {
    public IdAllocationException(String message) {
        super(message);
    }

    public IdAllocationException(String message, Throwable cause) {
        super(message, cause);
    }
}
