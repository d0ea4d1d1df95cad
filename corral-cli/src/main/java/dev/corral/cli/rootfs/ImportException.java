package dev.corral.cli.rootfs;

/** An import that stopped; nothing of it is left in the bases directory. */
public final class ImportException extends Exception {
    ImportException(String message) {
        super(message);
    }
}
