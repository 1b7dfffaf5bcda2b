package com.scratchgpt.ops;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.nd4j.linalg.factory.Nd4j;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.stereotype.Component;

import com.scratchgpt.ServedModel;
import com.scratchgpt.model.ParameterCount;

/** {@code /actuator/info}: the model's configuration, source, dtype, weight format, size, and the ND4J backend. */
@Component
class ModelInfoContributor implements InfoContributor {

    private final ServedModel served;

    ModelInfoContributor(ServedModel served) {
        this.served = served;
    }

    @Override
    public void contribute(Info.Builder builder) {
        ParameterCount count = ParameterCount.of(served.model().config(), served.model().tiedOutputHead());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("config", served.model().config());
        model.put("source", Path.of(served.source()).getFileName().toString()); // the file, not where the host keeps it
        model.put("layout", served.layout());
        model.put("dtype", served.dtype());
        model.put("loadMillis", served.loadMillis());
        model.put("totalParameters", count.totalParameters());
        model.put("tiedOutputHead", count.tiedOutputHead());
        model.put("weightFormat", served.model().weightFormat().id());
        model.put("memoryBytes", served.model().residentBytes());
        builder.withDetail("model", model);
        Map<String, Object> nd4j = new LinkedHashMap<>();
        nd4j.put("backend", Nd4j.getBackend().getClass().getSimpleName());
        nd4j.put("blasVendor", String.valueOf(Nd4j.factory().blas().getBlasVendor()));
        nd4j.put("blasThreads", Nd4j.factory().blas().getMaxThreads());
        nd4j.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        builder.withDetail("nd4j", nd4j);
    }
}
