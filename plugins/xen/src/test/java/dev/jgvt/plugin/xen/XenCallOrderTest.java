package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.emu.EmulatedDomain;
import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.plugin.xen.lib.XenBackend;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.InProcessGuest;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The order in which attach and detach call Xen, seen through a recording wrapper around the emulated
 * backend: attach creates, maps the ioreq page, claims the device and the memory type, enables, then binds
 * one event channel per vCPU; detach disables first, releases the memory type and the BAR claims, destroys
 * the server, then closes the event channels and unmaps the ioreq page. A failing step does not stop the
 * others, and a second detach calls nothing.
 */
final class XenCallOrderTest {
    private static final int DOMID = 9;
    private static final int VCPUS = 2;
    /** Calls whose order the contract fixes; the ioreq loop's pending/unmask/notify traffic is left out. */
    private static final Set<String> RECORDED = Set.of("createIoreqServer", "nrVcpus", "getIoreqServerInfo", "mapResource",
            "mapPcidevToIoreqServer", "unmapPcidevFromIoreqServer", "mapMemTypeToIoreqServer", "setIoreqServerState",
            "mapIoRangeToIoreqServer", "unmapIoRangeFromIoreqServer", "destroyIoreqServer", "bindInterdomain", "unbind");

    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private volatile String failing = "";
    private EmulatedXen xen;
    private EmulatedDomain domain;
    private XenHypervisor hypervisor;

    @BeforeEach
    void openHypervisor() {
        xen = new EmulatedXen();
        domain = xen.createDomain(DOMID, 16L << 20, VCPUS);
        domain.ioreqTimeout(Duration.ofSeconds(5));
        hypervisor = new XenHypervisor(recordingBackend(xen.backend(0)), Optional.of(xen),
                XenSettings.from(Map.of("backend", "emulated")));
    }

    @AfterEach
    void closeHypervisor() {
        hypervisor.close();
    }

    @Test
    void attachAndDetachCallXenInTheDocumentedOrder() {
        XenGuestBinding binding = attach();
        List<String> attach = snapshot();
        InProcessGuest guest = binding.inProcessGuest().orElseThrow();
        guest.configRead(0, 4); // firmware places the BARs
        guest.configWrite(0x04, 2, 0x0006); // memory decode on: BAR0 and BAR2 are claimed
        calls.clear();

        binding.close();
        List<String> detach = snapshot();
        binding.close();

        assertThat(attach).containsExactly(
                "dm.createIoreqServer", "dm.nrVcpus", "fm.mapResource", "dm.mapPcidevToIoreqServer",
                "dm.mapMemTypeToIoreqServer(write)", "dm.setIoreqServerState(true)",
                "evtchn.bindInterdomain", "evtchn.bindInterdomain");
        assertThat(detach).startsWith("dm.setIoreqServerState(false)", "dm.mapMemTypeToIoreqServer(none)")
                .endsWith("dm.destroyIoreqServer", "evtchn.close", "ioreq-page.close");
        assertThat(detach.subList(2, detach.size() - 3)).as("the BAR claims, released before the server goes")
                .isNotEmpty().containsOnly("dm.unmapIoRangeFromIoreqServer");
        assertThat(snapshot()).as("a second detach calls nothing").isEqualTo(detach);
        assertThat(domain.serverIds()).isEmpty();
        assertThat(domain.memTypeClaimOwner()).isEqualTo(-1);
    }

    @Test
    void aFailingTeardownStepDoesNotStopTheOthers() {
        XenGuestBinding binding = attach();
        calls.clear();
        failing = "dm.setIoreqServerState(false)";

        binding.close();

        assertThat(snapshot()).containsExactly("dm.setIoreqServerState(false) failed", "dm.mapMemTypeToIoreqServer(none)",
                "dm.destroyIoreqServer", "evtchn.close", "ioreq-page.close");
        assertThat(domain.serverIds()).isEmpty();
    }

    private XenGuestBinding attach() {
        return (XenGuestBinding) hypervisor.attach(new AttachRequest("vgpu0", new AttachRequest.XenDomain(DOMID)), new TestVgpu());
    }

    private List<String> snapshot() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    private XenBackend recordingBackend(XenBackend real) {
        return proxy(XenBackend.class, real, (method, result) -> switch (method.getName()) {
            case "deviceModel" -> proxy(XenDeviceModelOps.class, (XenDeviceModelOps) result, "dm.");
            case "foreignMemory" -> proxy(XenForeignMemory.class, (XenForeignMemory) result, "fm.");
            case "openEventChannels" -> proxy(XenEventChannels.class, (XenEventChannels) result, "evtchn.");
            default -> result;
        });
    }

    private <T> T proxy(Class<T> type, T delegate, String prefix) {
        return proxy(type, delegate, (method, result) -> {
            if (prefix.equals("fm.") && method.getName().equals("mapResource")) {
                return proxy(XenForeignMemory.ForeignMapping.class, (XenForeignMemory.ForeignMapping) result, "ioreq-page.");
            }
            return result;
        }, prefix);
    }

    private <T> T proxy(Class<T> type, T delegate, Wrap wrap) {
        return proxy(type, delegate, wrap, null);
    }

    private <T> T proxy(Class<T> type, T delegate, Wrap wrap, String prefix) {
        InvocationHandler handler = (self, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(delegate, args);
            }
            String name = prefix == null ? null : prefix + describe(method, args);
            boolean recorded = prefix != null && (RECORDED.contains(method.getName())
                    || (method.getName().equals("close") && !prefix.equals("dm.") && !prefix.equals("fm.")));
            if (recorded && name.equals(failing)) {
                calls.add(name + " failed");
                throw new XenCallException(method.getName(), Errno.EFAULT);
            }
            if (recorded) {
                calls.add(name);
            }
            try {
                return wrap.apply(method, method.invoke(delegate, args));
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    private static String describe(Method method, Object[] args) {
        return switch (method.getName()) {
            case "setIoreqServerState" -> method.getName() + "(" + args[2] + ")";
            case "mapMemTypeToIoreqServer" -> method.getName() + "(" + ((int) args[3] == 0 ? "none" : "write") + ")";
            default -> method.getName();
        };
    }

    @FunctionalInterface
    private interface Wrap {
        Object apply(Method method, Object result);
    }
}
