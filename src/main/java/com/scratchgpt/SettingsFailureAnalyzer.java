package com.scratchgpt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationErrors;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * Turns a bad {@code gpt.*} setting into one line a setting, naming the property, the value as written
 * and what is wrong, without a stack trace. Runs before Spring Boot's own analyzers, whose reports of the
 * same failures span a dozen lines; settings outside {@code gpt.*} are left to them.
 */
class SettingsFailureAnalyzer implements FailureAnalyzer, Ordered {

    private static final String PREFIX = "gpt.";

    /** One bad setting. */
    record Problem(String property, Object value, String reason) {

        String line() {
            return "Invalid setting " + property + "=" + value + ": " + reason;
        }
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        List<Problem> problems = new ArrayList<>();
        for (Throwable t = failure; t != null && problems.isEmpty(); t = t.getCause()) {
            if (t instanceof BindValidationException e) {
                problems.addAll(problems(e.getValidationErrors()));
            } else if (t instanceof BindException e && e.getProperty() != null
                    && !(e.getCause() instanceof BindValidationException)) {
                problems.add(new Problem(e.getProperty().getName().toString(), e.getProperty().getValue(),
                        unreadable(e.getTarget().getType().resolve(Object.class))));
            } else if (t instanceof InvalidConfigurationPropertyValueException e) {
                problems.add(new Problem(e.getName(), e.getValue(), e.getReason()));
            }
        }
        problems.removeIf(p -> !p.property().startsWith(PREFIX));
        if (problems.isEmpty()) {
            return null;
        }
        return new FailureAnalysis(problems.stream().map(Problem::line).collect(Collectors.joining(System.lineSeparator())),
                "Correct " + problems.stream().map(p -> p.property() + " (" + environmentVariable(p.property()) + ")")
                        .collect(Collectors.joining(", ")) + "; the accepted values are in docs/API.md.",
                failure);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    private static List<Problem> problems(ValidationErrors errors) {
        List<Problem> problems = new ArrayList<>();
        for (ObjectError error : errors) {
            if (error instanceof FieldError field) {
                ConfigurationPropertyName name = ConfigurationPropertyName.of(
                        field.getObjectName() + "." + DataObjectPropertyName.toDashedForm(field.getField()));
                Object written = errors.getBoundProperties().stream().filter(p -> p.getName().equals(name))
                        .map(ConfigurationProperty::getValue).findFirst().orElse(field.getRejectedValue());
                problems.add(new Problem(name.toString(), written, field.getDefaultMessage()));
            } else {
                problems.add(new Problem(errors.getName().toString(), "", error.getDefaultMessage()));
            }
        }
        return problems;
    }

    private static String unreadable(Class<?> type) {
        if (type == Duration.class) {
            return "not a duration (such as 30s, 5m or PT5M)";
        }
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
            return "not a whole number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "not true or false";
        }
        return "cannot be read as a " + type.getSimpleName();
    }

    /** The name Spring's relaxed binding reads from the environment: GPT_GENERATION_MAXBATCHTOKENS. */
    private static String environmentVariable(String property) {
        return property.replace("-", "").replace('.', '_').toUpperCase(Locale.ROOT);
    }
}
