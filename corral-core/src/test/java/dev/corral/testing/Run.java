package dev.corral.testing;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a jail to completion and keeps what it printed. */
public record Run(String out, String err, int status) {
    public static Run of(JailBuilder builder) throws Exception {
        JailedProcess p = builder.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("jail did not finish within 30 s");
        }
        return new Run(out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS), p.exitValue());
    }

    /** A default jail running {@code sh -c script}. */
    public static Run sh(String script) throws Exception {
        return of(new JailBuilder().command("sh", "-c", script));
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
