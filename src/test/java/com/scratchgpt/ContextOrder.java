package com.scratchgpt;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.ClassDescriptor;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.test.context.BootstrapUtils;
import org.springframework.test.context.BootstrapWith;

/**
 * The order of the test classes (junit-platform.properties): those without a Spring context first, then the
 * classes of each context one after another, so that each context (GPT-2 small and its KV cache, 1.2 GB) is
 * built once and closed when its last class has run; with spring.test.context.cache.maxSize=1
 * (spring.properties) one lives at a time. A context is told by Spring's own cache key, the merged
 * configuration: the same {@code @SpringBootTest} properties (or annotation, such as {@code @AttackContext})
 * is the same context. By name within a group, groups in the order of their first class's name.
 */
public final class ContextOrder implements ClassOrderer {

    private static final Object NO_CONTEXT = new Object();

    @Override
    public void orderClasses(ClassOrdererContext context) {
        Comparator<ClassDescriptor> byName = Comparator.comparing(d -> d.getTestClass().getName());
        context.getClassDescriptors().sort(byName);
        Map<Object, Integer> groups = new HashMap<>();
        groups.put(NO_CONTEXT, 0);
        Map<ClassDescriptor, Integer> group = new HashMap<>();
        for (ClassDescriptor d : context.getClassDescriptors()) {
            group.put(d, groups.computeIfAbsent(contextOf(d.getTestClass()), key -> groups.size()));
        }
        context.getClassDescriptors().sort(Comparator.comparing(group::get));
    }

    /** Spring's cache key for the class's context, or NO_CONTEXT for a class that has none. */
    private static Object contextOf(Class<?> testClass) {
        if (!MergedAnnotations.from(testClass, SearchStrategy.TYPE_HIERARCHY).isPresent(BootstrapWith.class)) {
            return NO_CONTEXT;
        }
        return BootstrapUtils.resolveTestContextBootstrapper(testClass).buildMergedContextConfiguration();
    }
}
