package dev.jgvt.plugin.kvm;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import dev.jgvt.testing.arch.ArchitectureRules;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class ArchitectureTest {
    @Test
    void kvmVfioPluginObeysTheModuleRules() {
        JavaClasses classes = ArchitectureRules.productionClasses("dev.jgvt.plugin.kvm");
        List<ArchRule> rules = new ArrayList<>(ArchitectureRules.common());
        rules.add(ArchitectureRules.PLUGINS_DO_NOT_USE_CORE);
        rules.add(ArchitectureRules.NO_STANDARD_STREAMS);
        for (ArchRule rule : rules) {
            rule.check(classes);
        }
    }
}
