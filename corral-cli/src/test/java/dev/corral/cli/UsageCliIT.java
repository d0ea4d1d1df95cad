package dev.corral.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * corral's own help, version and usage errors. Help and the version come from a root whose
 * subcommands are only names and descriptions (their options are never read): it must still list
 * every one of them, each with its own description.
 */
class UsageCliIT {
    private static String words(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }

    @Test
    void helpListsEverySubcommandWithItsOwnDescription() throws Exception {
        Cli.Result help = Cli.run("--help");
        assertThat(help.status()).as(help.err()).isZero();
        assertThat(help.out()).startsWith("Usage: corral [-hV] [COMMAND]").contains("Commands:");
        String listed = words(help.out());
        CorralCommand.SUBCOMMANDS.forEach((name, sub) -> {
            String description = sub.description().get()[0];
            assertThat(listed).as(name).contains(words(name + " " + description));
        });
        // -h says the same
        assertThat(Cli.run("-h").out()).isEqualTo(help.out());
    }

    @Test
    void version() throws Exception {
        for (String flag : new String[] {"--version", "-V"}) {
            Cli.Result v = Cli.run(flag);
            assertThat(v.status()).as(v.err()).isZero();
            assertThat(v.out()).startsWith("corral ");
            assertThat(v.err()).isEmpty();
        }
    }

    @Test
    void noCommandOrAnUnknownOneIsAUsageError() throws Exception {
        Cli.Result none = Cli.run();
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err()).contains("corral: a command is needed: run, plan, doctor, exec, daemon, ctl, logs, rootfs");
        Cli.Result unknown = Cli.run("runn", "--", "true");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).contains("'runn'").contains("Did you mean 'run'?").contains("Try 'corral --help'.");
        assertThat(unknown.out()).isEmpty();
    }
}
