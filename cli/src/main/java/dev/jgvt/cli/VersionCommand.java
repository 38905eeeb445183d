package dev.jgvt.cli;

import dev.jgvt.spi.SpiVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code gvt version}: the jgvt version, the SPI version plugins are checked against, and the JVM. */
@Command(name = "version", mixinStandardHelpOptions = true, description = "Print jgvt, SPI and Java versions.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:always"})
final class VersionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        for (String line : lines()) {
            spec.commandLine().getOut().println(line);
        }
    }

    static String[] lines() {
        String version = VersionCommand.class.getPackage().getImplementationVersion();
        return new String[] {
            "jgvt " + (version == null ? "(development build)" : version),
            "spi " + SpiVersion.current(),
            "java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor", "unknown vendor") + ")"
        };
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return lines();
        }
    }
}
