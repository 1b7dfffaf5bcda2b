package com.scratchgpt;

import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Retention;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * The one property set of the tests that fill the service and outlast its deadline, so that they share one
 * context: one generation slot and no queue place (a second request is refused at once) and a 3 s deadline.
 */
@Target(TYPE)
@Retention(RUNTIME)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "gpt.generation.max-concurrent=1", "gpt.generation.max-queue=0", "gpt.generation.timeout=3s"})
public @interface OverloadContext {
}
