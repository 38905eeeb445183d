package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A command line picocli cannot parse is bad usage: one line on stderr naming what was wrong, exit 2, no usage dump. */
final class UsageErrorTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            nosuch                                   | gvt: unknown command 'nosuch'
            nosuch --help                            | gvt: unknown command 'nosuch'
            nosuch --version                         | gvt: unknown command 'nosuch'
            nosuch --json --uuid x                   | gvt: unknown command 'nosuch'
            --help nosuch                            | gvt: unknown command 'nosuch'
            strat --uuid x                           | gvt: unknown command 'strat' (did you mean list or start?)
            help nosuch                              | gvt: Unknown subcommand 'nosuch'; see gvt --help
            demo --vgpus abc                         | gvt demo: Invalid value for option '--vgpus': 'abc' is not an int
            demo --frames 1 --seconds 1              | gvt demo: Error: --frames=F, --seconds=S are mutually exclusive
            serve                                    | gvt serve: Missing required option: '--socket=PATH'
            decode --engine gpu x.bin                | gvt decode: Invalid value for option '--engine': unknown engine 'gpu'
            scan --engine rcs --aperture 1 --hidden 0:0 x | gvt scan: Invalid value for option '--aperture': expected BASE:SIZE
            types --ggtt 8G                          | gvt types: GGTT size must be a multiple of 1 MiB
            bench scan --rounds x                    | gvt bench scan: Invalid value for option '--rounds'
            """)
    void isOneLineNamingTheProblem(String args, String start) {
        CliRun run = CliRun.of(args.split(" "));

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith(start);
        assertThat(run.err().lines()).as(run.err()).hasSize(1);
        assertThat(run.err()).contains("--help");
    }
}
