package com.scratchgpt;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** ScratchGPT: the seeds' GPT-2 on ND4J, served over HTTP. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ScratchGptApplication {

    public static void main(String[] args) {
        SpringApplication.run(ScratchGptApplication.class, args);
    }
}
