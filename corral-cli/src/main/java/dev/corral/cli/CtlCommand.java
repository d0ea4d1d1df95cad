package dev.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.daemon.Daemon;
import dev.corral.daemon.client.ControlClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = {"Talk to a running corral daemon.",
                "  status               every application: state, pid, restarts, last exit, uptime",
                "  apply FILE           replace the whole configuration ({\"applications\": {...}})",
                "  get [NAME]           the configuration, or one application's",
                "  rm NAME              remove an application (it is stopped)",
                "  start|stop|restart NAME",
                "  logs NAME            the application's log"})
final class CtlCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--socket", paramLabel = "PATH", description = "The daemon's control socket.")
    Path socket;
    @Option(names = "--json", description = "Print the daemon's JSON as it is.")
    boolean json;
    @Parameters(paramLabel = "ACTION", arity = "1..*", description = "status, apply FILE, get [NAME], rm NAME, start|stop|restart NAME, logs NAME")
    List<String> words;

    @Override
    public Integer call() throws Exception {
        Path sock = socket != null ? socket : Daemon.Paths.defaults().socket();
        if (!Files.exists(sock)) {
            System.err.println("corral ctl: no daemon socket at " + sock + " (start one with corral daemon, or give --socket)");
            return ExitCodes.SETUP_FAILED;
        }
        String action = words.getFirst();
        String arg = words.size() > 1 ? words.get(1) : null;
        try (ControlClient c = new ControlClient(sock)) {
            ControlClient.Reply r = switch (action) {
                case "status" -> c.get("/status");
                case "apply" -> arg == null ? null : c.put("/config", readConfig(arg));
                case "get" -> c.get(arg == null ? "/config" : "/config/applications/" + arg);
                case "rm" -> arg == null ? null : c.delete("/config/applications/" + arg);
                case "start", "stop", "restart" -> arg == null ? null : c.post("/control/applications/" + arg + "/" + action);
                case "logs" -> arg == null ? null : c.get("/applications/" + arg + "/logs");
                default -> {
                    System.err.println("corral ctl: unknown action \"" + action + "\"; try corral ctl --help");
                    yield null;
                }
            };
            if (r != null && r.status() < 0) {
                System.err.println("corral ctl: cannot reach the daemon at " + sock + ": " + r.body());
                return ExitCodes.SETUP_FAILED;
            }
            if (r == null) {
                if (List.of("apply", "rm", "start", "stop", "restart", "logs").contains(action)) {
                    System.err.println("corral ctl: " + action + " needs " + (action.equals("apply") ? "a FILE" : "an application NAME"));
                }
                return ExitCodes.USAGE;
            }
            if (r.status() >= 400) {
                printError(r);
                return r.status() == 400 ? ExitCodes.USAGE : 1;
            }
            if (json || action.equals("get") || action.equals("logs")) System.out.print(r.body());
            else if (action.equals("status")) printStatus(JSON.readTree(r.body()));
            else System.out.println(JSON.readTree(r.body()).path("success").asText());
            return 0;
        }
    }

    private static String readConfig(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (java.io.IOException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new CtlCommand()),
                    "cannot read " + file + ": " + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
    }

    private static void printError(ControlClient.Reply r) throws Exception {
        JsonNode body = JSON.readTree(r.body());
        System.err.println("corral ctl: " + body.path("error").asText("HTTP " + r.status()));
        for (JsonNode p : body.path("problems")) {
            System.err.println("corral: " + p.path("path").asText() + ": " + p.path("message").asText());
        }
    }

    private static void printStatus(JsonNode status) {
        System.out.printf("%-20s %-11s %8s %8s %9s %10s%n", "NAME", "STATE", "PID", "RESTARTS", "LAST EXIT", "UPTIME");
        for (Iterator<Map.Entry<String, JsonNode>> it = status.path("applications").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            JsonNode a = e.getValue();
            System.out.printf("%-20s %-11s %8s %8d %9s %10s%n", e.getKey(), a.path("state").asText(),
                    a.has("pid") ? a.get("pid").asText() : "-", a.path("restarts").asInt(),
                    a.has("last_exit") ? a.get("last_exit").asText() : "-",
                    a.has("uptime_s") ? String.format("%.1fs", a.get("uptime_s").asDouble()) : "-");
        }
    }
}
