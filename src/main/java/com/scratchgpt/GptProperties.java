package com.scratchgpt;

import static java.lang.annotation.ElementType.FIELD;
import static java.lang.annotation.ElementType.PARAMETER;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Annotation;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import com.scratchgpt.model.GPTPreset;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;

/**
 * The service's settings ({@code gpt.*} in application.properties, or environment variables such as
 * {@code GPT_MODEL_PATH}), checked when they are bound: a bad one stops start-up with one line naming
 * it ({@link SettingsFailureAnalyzer}).
 */
@Validated
@ConfigurationProperties("gpt")
public record GptProperties(@Valid @DefaultValue Model model, @Valid @DefaultValue Generation generation,
                            @Valid @DefaultValue Http http, @Valid @DefaultValue Inspect inspect) {

    /**
     * @param path         folder with config.json + model.safetensors, or a .safetensors file; empty for a random
     *                     model (whether it loads is the checkpoint loader's to say)
     * @param preset       the GPT-2 size to initialise when no path is set
     * @param seed         torch.manual_seed for that initialisation (any long)
     * @param qkvBias      whether that model's query/key/value projections carry biases
     * @param weightFormat how the linear layers' weights and the token embedding are held and computed, whatever
     *                     the checkpoint stores: f32, bf16 or q8_0 ({@link WeightFormat})
     */
    public record Model(String path, @PresetName @DefaultValue("gpt2-small") String preset,
                        @DefaultValue("123") long seed, @DefaultValue("false") boolean qkvBias,
                        @WeightFormatName @DefaultValue("f32") String weightFormat) {

        /** The weight format named by {@link #weightFormat} (validated when bound). */
        public WeightFormat format() {
            return WeightFormat.of(weightFormat);
        }
    }

    /**
     * @param maxNewTokens   upper bound on a request's maxNewTokens
     * @param maxConcurrent  requests generating at the same time (sharing each forward pass)
     * @param maxQueue       sequences waiting beyond those (among them a request's beyond its share); more are
     *                       refused with 429
     * @param timeout        deadline for one request, queueing included
     * @param maxBatch       sequences sharing one forward pass
     * @param maxBatchTokens KV-cache positions for all running sequences together, allocated once at start
     *                       (GPT-2 small: 72 KiB a position); at least the model's context length, which is
     *                       checked once the model is known
     * @param prefillChunk   prompt tokens read per step while other sequences decode
     * @param maxRequestShare the share of the generation slots and of the KV-cache positions one request (all
     *                       its prompts and choices) may hold at once, never less than one slot and one full
     *                       context; its other sequences wait their turn. A quarter: a request asking for the
     *                       whole pool leaves three quarters to the others, and loses little itself, as batched
     *                       decoding is bound by memory bandwidth (4 streams decode 1.8x one, 16 streams 2.9x:
     *                       docs/BENCHMARKS.md)
     * @param maxTokensPastContext tokens a request may generate once its sequence is past the context, where
     *                       each one recomputes the whole window (1024 rows: ~1.3 s of the engine for GPT-2
     *                       small, as much as 150 decode steps); 32 still lets a long prompt have the default
     *                       16 new tokens, twice over
     */
    public record Generation(@Min(1) @DefaultValue("1024") int maxNewTokens,
                             @Min(1) @DefaultValue("16") int maxConcurrent,
                             @Min(0) @DefaultValue("64") int maxQueue,
                             @DurationMin(nanos = 0, inclusive = false, message = "must be longer than 0")
                             @DefaultValue("5m") Duration timeout,
                             @Min(1) @DefaultValue("16") int maxBatch,
                             @Min(1) @DefaultValue("8192") int maxBatchTokens,
                             @Min(1) @DefaultValue("512") int prefillChunk,
                             @DecimalMin(value = "0", inclusive = false) @DecimalMax("1") @DefaultValue("0.25")
                             double maxRequestShare,
                             @Min(0) @DefaultValue("32") int maxTokensPastContext) {
    }

    /**
     * @param bodyTimeout how long a request's body may take to arrive, all of it; past it the request is
     *                    answered 408. Bodies are read without holding a worker thread, so a slow client
     *                    costs a connection, not a thread; a whole 1 MiB body within 20 s is 52 KB/s
     */
    public record Http(@DurationMin(nanos = 0, inclusive = false, message = "must be longer than 0")
                       @DefaultValue("20s") Duration bodyTimeout) {
    }

    /**
     * @param maxTokens the longest prompt POST /inspect takes (also bounded by the model's context): its answer grows
     *                  with the square of it (attention) and its logit lens costs layers x tokens products with the
     *                  output head
     */
    public record Inspect(@Min(1) @DefaultValue("128") int maxTokens) {
    }

    /** One of the {@link WeightFormat} names. */
    @Target({FIELD, PARAMETER})
    @Retention(RUNTIME)
    @Constraint(validatedBy = WeightFormatName.Validator.class)
    public @interface WeightFormatName {

        String message() default "";

        Class<?>[] groups() default {};

        Class<? extends Payload>[] payload() default {};

        /** Accepts the format names; bf16 and q8_0 only where the JVM has the Vector API their kernels need. */
        class Validator extends OneOf<WeightFormatName> {

            @Override
            Stream<String> names() {
                return Arrays.stream(WeightFormat.values()).map(WeightFormat::id);
            }

            @Override
            public boolean isValid(String value, ConstraintValidatorContext context) {
                if (!super.isValid(value, context)) {
                    return false;
                }
                if (WeightFormat.of(value) == WeightFormat.F32 || WeightMatrix.kernelsAvailable()) {
                    return true;
                }
                context.disableDefaultConstraintViolation();
                context.buildConstraintViolationWithTemplate("needs the JDK's Vector API: start java with --add-modules"
                        + " jdk.incubator.vector").addConstraintViolation();
                return false;
            }
        }
    }

    /** One of the {@link GPTPreset} names. */
    @Target({FIELD, PARAMETER})
    @Retention(RUNTIME)
    @Constraint(validatedBy = PresetName.Validator.class)
    public @interface PresetName {

        String message() default "";

        Class<?>[] groups() default {};

        Class<? extends Payload>[] payload() default {};

        /** Accepts the preset names. */
        class Validator extends OneOf<PresetName> {

            @Override
            Stream<String> names() {
                return Arrays.stream(GPTPreset.values()).map(GPTPreset::presetName);
            }
        }
    }

    /** Accepts one of a setting's names, and says which they are when it does not. */
    abstract static class OneOf<A extends Annotation> implements ConstraintValidator<A, String> {

        abstract Stream<String> names();

        @Override
        public boolean isValid(String value, ConstraintValidatorContext context) {
            if (names().anyMatch(n -> n.equals(value))) {
                return true;
            }
            context.disableDefaultConstraintViolation();
            context.buildConstraintViolationWithTemplate("must be one of " + names().collect(Collectors.joining(", ")))
                    .addConstraintViolation();
            return false;
        }
    }
}
