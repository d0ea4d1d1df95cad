package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.config.JsonObject;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A directory of {@code NAME.json} files, one application each, watched as uWSGI's Emperor
 * watches its vassals: a new file starts an application, a changed one reloads it, a removed one
 * stops it. Each file holds one application object, as {@code corral run --config} takes it.
 */
final class AppsDirectory implements AutoCloseable {
    /** Editors write in several steps: wait for the directory to settle before reading it. */
    private static final long SETTLE_MS = 100;

    private final Path dir;
    private final ConfigStore config;
    private final Consumer<String> report;
    private final WatchService watcher;
    private final Thread thread;

    AppsDirectory(Path dir, ConfigStore config, Consumer<String> report) throws IOException {
        this.dir = dir;
        this.config = config;
        this.report = report;
        Files.createDirectories(dir);
        this.watcher = dir.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        scan();
        this.thread = Thread.ofPlatform().daemon().name("corral-apps-dir").start(this::watch);
    }

    private void watch() {
        try {
            while (true) {
                var key = watcher.take();
                // Collect what else arrives while the writer finishes, then read the whole directory.
                do {
                    key.pollEvents();
                    key.reset();
                } while ((key = watcher.poll(SETTLE_MS, TimeUnit.MILLISECONDS)) != null);
                scan();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    /** Reads every NAME.json and hands the lot to the store. */
    void scan() {
        Map<String, JsonNode> apps = new LinkedHashMap<>();
        Map<String, List<Problem>> bad = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            report.accept(dir + ": cannot list: " + e.getMessage());
            return;
        }
        for (Path f : files) {
            String file = f.getFileName().toString();
            String name = file.substring(0, file.length() - ".json".length());
            try {
                apps.put(name, JsonObject.read(Files.readString(f), f.toString()));
            } catch (SpecException e) {
                bad.put(name, e.problems());
            } catch (IOException e) {
                bad.put(name, List.of(new Problem(f.toString(), "cannot read: " + e.getMessage())));
            }
        }
        config.directoryChanged(apps, bad, report);
    }

    @Override
    public void close() throws IOException {
        watcher.close();
        thread.interrupt();
    }
}
