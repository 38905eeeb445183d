package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The shipped libvirt domain and systemd unit say what the user guide says they do. */
final class IntegrationFilesTest {
    private static final Path DIST = Path.of("src/dist");

    @Test
    void theDomainBacksRamWithASharedMemfdAndPassesTheVfioUserDeviceToQemu() throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document domain = factory.newDocumentBuilder().parse(DIST.resolve("libvirt/vgpu-domain.xml").toFile());
        Element backing = (Element) domain.getElementsByTagName("memoryBacking").item(0);
        assertThat(((Element) backing.getElementsByTagName("source").item(0)).getAttribute("type")).isEqualTo("memfd");
        assertThat(((Element) backing.getElementsByTagName("access").item(0)).getAttribute("mode")).isEqualTo("shared");
        NodeList args = domain.getElementsByTagNameNS("http://libvirt.org/schemas/domain/qemu/1.0", "arg");
        assertThat(args.getLength()).isEqualTo(2);
        assertThat(((Element) args.item(0)).getAttribute("value")).isEqualTo("-device");
        assertThat(((Element) args.item(1)).getAttribute("value"))
                .isEqualTo("{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"/run/jgvt/UUID.sock\",\"type\":\"unix\"}}");
    }

    @Test
    void theUnitRunsTheDaemonWithTheDefaultDirectoriesAndStopsItWithSigterm() throws Exception {
        String unit = Files.readString(DIST.resolve("systemd/jgvt.service"));
        assertThat(unit).contains("ExecStart=/opt/jgvt/bin/gvt daemon --runtime-dir /run/jgvt --config-dir /etc/jgvt/vgpus")
                .contains("RuntimeDirectory=jgvt").contains("RuntimeDirectoryMode=0750").contains("KillSignal=SIGTERM")
                .contains("SuccessExitStatus=143");
        assertThat(Files.isExecutable(DIST.resolve("libvirt/qemu-hook"))).isTrue();
    }
}
