package com.scratchgpt;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaCodeUnitAccess;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

/**
 * The arrows of docs/ARCHITECTURE.md, checked on the compiled classes (every type a class names: imports,
 * fields, signatures, calls, annotations): which of the project's packages each package may use, which
 * libraries it must not know, and the two narrow doors (the root's records; the model's metadata for api).
 */
@AnalyzeClasses(packages = "com.scratchgpt", importOptions = {ImportOption.DoNotIncludeTests.class, ImportOption.DoNotIncludeJars.class})
class ArchitectureTest {

    private static final String ROOT = "com.scratchgpt";

    /** Each package ("" is the root) and the project's packages it may use besides itself. */
    static final Map<String, Set<String>> ARROWS = Map.of(
            "", Set.of("generation", "model", "tokenizer", "weights"),
            "api", Set.of("", "generation", "model", "tokenizer"),
            "ops", Set.of("", "generation", "model"),
            "generation", Set.of("model", "tokenizer"),
            "weights", Set.of("model"),
            "model", Set.of(),
            "tokenizer", Set.of());

    /** Libraries a package must not know: Spring lives in the root, api and ops only; ND4J never in api. */
    static final Map<String, List<String>> FORBIDDEN = Map.of(
            "model", List.of("org.springframework", "jakarta", "tools.jackson", "com.fasterxml.jackson",
                    "io.micrometer", "io.swagger", "com.knuddels"),
            "tokenizer", List.of("org.springframework", "jakarta"),
            "weights", List.of("org.springframework", "jakarta"),
            "generation", List.of("org.springframework", "jakarta", "io.micrometer"),
            "api", List.of("org.nd4j", "org.bytedeco"));

    /** What of the root the other packages may use: the settings and the served model, never the wiring. */
    static final Set<String> ROOT_RECORDS = Set.of(ROOT + ".GptProperties", ROOT + ".ServedModel");

    /** What of the model api may use: what describes it; GPTModel only through accessors naming no tensor. */
    static final Set<String> MODEL_METADATA = Set.of(ROOT + ".model.GPTConfig", ROOT + ".model.GPTPreset",
            ROOT + ".model.ParameterCount", ROOT + ".model.GPTModel", ROOT + ".model.kernel.WeightFormat");

    @ArchTest
    static final ArchRule everyPackageHasItsArrows = classes().should(new ArchCondition<>("reside in a package with arrows") {
        @Override
        public void check(JavaClass c, ConditionEvents events) {
            if (!ARROWS.containsKey(room(c))) {
                events.add(SimpleConditionEvent.violated(c, c.getName() + " is in " + c.getPackageName()
                        + ", which has no arrows in ArchitectureTest.ARROWS and docs/ARCHITECTURE.md"));
            }
        }
    });

    @ArchTest
    static final ArchRule packagesUseOnlyTheirArrows = classes().should(new ArchCondition<>("use only the packages their arrows allow") {
        @Override
        public void check(JavaClass c, ConditionEvents events) {
            String from = room(c);
            c.getDirectDependenciesFromSelf().forEach(d -> {
                JavaClass target = d.getTargetClass().getBaseComponentType();
                if (!inProject(target) || room(target).equals(from)) {
                    return;
                }
                String to = room(target);
                if (!ARROWS.getOrDefault(from, Set.of()).contains(to)) {
                    events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": " + label(from) + " may not use " + label(to)));
                } else if (to.isEmpty() && !ROOT_RECORDS.contains(topLevel(target).getName())) {
                    events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": only " + ROOT_RECORDS
                            + " of the root package are for other packages"));
                } else if (from.equals("api") && to.equals("model") && !MODEL_METADATA.contains(topLevel(target).getName())) {
                    events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": api uses only the model's metadata "
                            + MODEL_METADATA));
                }
            });
        }
    });

    @ArchTest
    static final ArchRule packagesKnowNothingOfForbiddenLibraries = classes().should(
            new ArchCondition<>("use no library forbidden to their package") {
        @Override
        public void check(JavaClass c, ConditionEvents events) {
            List<String> forbidden = FORBIDDEN.getOrDefault(room(c), List.of());
            c.getDirectDependenciesFromSelf().forEach(d -> {
                String pkg = d.getTargetClass().getBaseComponentType().getPackageName();
                forbidden.stream().filter(lib -> pkg.equals(lib) || pkg.startsWith(lib + ".")).findFirst()
                        .ifPresent(lib -> events.add(SimpleConditionEvent.violated(d, d.getDescription() + ": "
                                + label(room(c)) + " knows nothing of " + lib)));
            });
        }
    });

    @ArchTest
    static final ArchRule apiTouchesNoTensor = classes().that().resideInAPackage(ROOT + ".api..")
            .should(new ArchCondition<>("call no model method whose signature names a tensor, layer or cache") {
                @Override
                public void check(JavaClass c, ConditionEvents events) {
                    for (JavaCodeUnitAccess<?> access : c.getCodeUnitAccessesFromSelf()) {
                        access.getTarget().resolveMember().filter(m -> inProject(m.getOwner()) && room(m.getOwner()).equals("model"))
                                .flatMap(m -> signature(m).filter(t -> !apiMayName(t)).findFirst())
                                .ifPresent(t -> events.add(SimpleConditionEvent.violated(access, access.getDescription()
                                        + ": its signature names " + t.getName())));
                    }
                }
            });

    private static Stream<JavaClass> signature(JavaCodeUnit m) {
        return Stream.concat(Stream.of(m.getReturnType()), m.getParameterTypes().stream())
                .map(JavaType::getAllInvolvedRawTypes).flatMap(Set::stream).map(JavaClass::getBaseComponentType);
    }

    private static boolean apiMayName(JavaClass t) {
        String pkg = t.getPackageName();
        if (pkg.startsWith("org.nd4j") || pkg.startsWith("org.bytedeco")) {
            return false;
        }
        return !inProject(t) || !room(t).equals("model") || MODEL_METADATA.contains(topLevel(t).getName());
    }

    private static boolean inProject(JavaClass c) {
        return c.getPackageName().equals(ROOT) || c.getPackageName().startsWith(ROOT + ".");
    }

    /** The package directly under the root a project class belongs to; "" for the root itself. */
    static String room(JavaClass c) {
        String pkg = c.getPackageName();
        if (pkg.equals(ROOT)) {
            return "";
        }
        String rest = pkg.substring(ROOT.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    private static JavaClass topLevel(JavaClass c) {
        JavaClass top = c;
        while (top.getEnclosingClass().isPresent()) {
            top = top.getEnclosingClass().get();
        }
        return top;
    }

    private static String label(String room) {
        return room.isEmpty() ? "the root package" : room;
    }
}
