package com.scratchgpt;

import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Retention;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * The one property set of the tests that play a hostile client, so that they share one context: limits
 * small enough for an attack to show within a test (4 generation slots, 8 queue places, a KV cache of 4
 * contexts, 8 Tomcat worker threads, a 20 s deadline and a 2 s deadline on request bodies); every
 * setting the attacks are about (a request's share, the limit past the context) keeps its default.
 */
@Target(TYPE)
@Retention(RUNTIME)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "gpt.generation.max-concurrent=4", "gpt.generation.max-batch=4", "gpt.generation.max-queue=8",
        "gpt.generation.max-batch-tokens=4096", "gpt.generation.timeout=20s", "gpt.http.body-timeout=2s",
        "server.tomcat.threads.max=8"})
public @interface AttackContext {
}
