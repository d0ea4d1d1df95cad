package dev.corral.cli;

import dev.corral.doctor.Doctor;
import dev.corral.doctor.HostCheck;
import dev.corral.doctor.HostReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Print what this host allows for jails, for the user running it, and what to change.",
                "Checks user namespaces, cgroups, /etc/subuid and /etc/subgid, newuidmap/newgidmap, idmapped mounts,"
                        + " overlayfs, the time namespace, pasta/slirp4netns and the executor's compiler."
                        + " Changes nothing; exits 0 whatever it finds."},
        footer = {"", "Examples:", "  corral doctor", "  corral doctor --json | jq '.checks[] | select(.status != \"ok\")'"})
final class DoctorCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print the report as JSON: user, uid, kernel, arch, and checks"
            + " (each with name, title, status ok|warn|missing, finding, fix, facts).")
    boolean json;

    @Override
    public Integer call() {
        HostReport report = Doctor.forCurrentUser().examine();
        System.out.println(json ? report.toJson() : text(report));
        return 0;
    }

    static String text(HostReport r) {
        StringBuilder out = new StringBuilder();
        out.append("corral doctor: what this host allows for jails, for ").append(r.user()).append(" (uid ").append(r.uid())
                .append("), Linux ").append(r.kernel()).append(" on ").append(r.arch()).append("\n");
        for (HostCheck c : r.checks()) {
            out.append("\n").append(String.format("%-10s", "[" + c.status().label() + "]")).append(c.title()).append("\n");
            out.append("          ").append(c.finding()).append("\n");
            for (String d : c.details()) out.append("            ").append(d).append("\n");
            if (!c.fix().isEmpty()) out.append("          fix: ").append(c.fix()).append("\n");
        }
        out.append("\n").append(r.count(HostCheck.Status.OK)).append(" ok, ").append(r.count(HostCheck.Status.WARN))
                .append(" warn, ").append(r.count(HostCheck.Status.MISSING)).append(" missing");
        return out.toString();
    }
}
