package dev.corral.cli;

import dev.corral.daemon.Daemon;
import dev.corral.daemon.client.ControlClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "logs", mixinStandardHelpOptions = true,
        description = "Print an application's log (its stdout and stderr) from the daemon; -f keeps following it.")
final class LogsCommand implements Callable<Integer> {
    @Option(names = "--socket", paramLabel = "PATH", description = "The daemon's control socket.")
    Path socket;
    @Option(names = {"-f", "--follow"}, description = "Keep printing what the application writes.")
    boolean follow;
    @Parameters(paramLabel = "NAME", description = "The application.")
    String name;

    @Override
    public Integer call() throws Exception {
        Path sock = socket != null ? socket : Daemon.Paths.defaults().socket();
        if (!Files.exists(sock)) {
            System.err.println("corral logs: no daemon socket at " + sock + " (start one with corral daemon, or give --socket)");
            return ExitCodes.SETUP_FAILED;
        }
        try (ControlClient c = new ControlClient(sock)) {
            ControlClient.Reply r = follow ? c.stream("/applications/" + name + "/logs?follow=1", System.out)
                    : c.get("/applications/" + name + "/logs");
            if (r.status() != 200) {
                System.err.println("corral logs: " + (r.status() < 0 ? "cannot reach the daemon: " + r.body()
                        : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("error").asText()));
                return 1;
            }
            System.out.print(r.body());
            return 0;
        }
    }
}
