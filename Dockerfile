# syntax=docker/dockerfile:1
# ScratchGPT container image.
#
#   docker build -t scratchgpt .
#   docker run --rm -p 127.0.0.1:8080:8080 --memory 3g scratchgpt
#   docker run --rm -p 127.0.0.1:8080:8080 --memory 3g \
#     -v "$PWD/models:/models:ro" -e GPT_MODEL_PATH=/models/gpt2 scratchgpt
#
# Runtime base must be glibc-based (Debian/Ubuntu): the ND4J natives crash on musl (Alpine).

# ---- build: compile the Spring Boot fat jar ---------------------------------------------------
FROM eclipse-temurin:17-jdk AS build
WORKDIR /build
# The Maven wrapper, its configuration (-Djavacpp.platform=linux-x86_64 keeps only the linux-x86_64
# natives) and the POM first: the dependency layer is rebuilt only when these change.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
RUN --mount=type=cache,target=/root/.m2,sharing=locked \
    ./mvnw -B -q dependency:go-offline
COPY config/ config/
COPY src/ src/
RUN --mount=type=cache,target=/root/.m2,sharing=locked \
    ./mvnw -B package -DskipTests \
 && cp target/scratchgpt.jar /build/app.jar

# ---- layers: split the jar into Spring Boot's layers (least to most frequently changed) -------
FROM eclipse-temurin:17-jre AS layers
WORKDIR /layers
COPY --from=build /build/app.jar app.jar
RUN java -Djarmode=tools -jar app.jar extract --layers --launcher --destination extracted

# ---- runtime ----------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre
# A non-root user; it writes only to JavaCPP's cache, where the ND4J/OpenBLAS natives are extracted at
# start-up (~400 MB), and /tmp (JVM, Tomcat). With --read-only, mount volumes (Kubernetes: emptyDirs)
# or tmpfs (exec, writable by uid 10001) on both.
RUN groupadd --gid 10001 scratchgpt \
 && useradd --uid 10001 --gid scratchgpt --home-dir /app --no-create-home --no-log-init \
      --shell /usr/sbin/nologin scratchgpt \
 && mkdir -p /app /models /var/cache/javacpp \
 && chown scratchgpt:scratchgpt /var/cache/javacpp
WORKDIR /app
COPY --from=layers /layers/extracted/dependencies/ ./
COPY --from=layers /layers/extracted/spring-boot-loader/ ./
COPY --from=layers /layers/extracted/snapshot-dependencies/ ./
COPY --from=layers /layers/extracted/application/ ./
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/scratchgpt

# Weights: mount a folder holding config.json + model.safetensors (e.g. ./models:/models:ro) and set
# GPT_MODEL_PATH to /models/<dir>. Left empty, the service initialises a random GPT-2 small
# (gpt.model.preset / GPT_MODEL_PRESET, seed 123).
ENV GPT_MODEL_PATH=""
# Extra JVM options, appended last (they override the defaults computed by the entrypoint).
ENV JAVA_OPTS=""
ENV JAVACPP_CACHE_DIR=/var/cache/javacpp
VOLUME ["/models"]

# Numeric, so that Kubernetes can verify runAsNonRoot without a runAsUser of its own.
USER 10001:10001
EXPOSE 8080
# Liveness: UP once the application runs, which is once the weights are loaded; not /actuator/health,
# whose `queue` component is OUT_OF_SERVICE (503) while the service is merely busy. Start-up takes
# ~15 s for GPT-2 small (natives extraction + weights), longer for bigger checkpoints.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD curl -fsS -o /dev/null --max-time 4 "http://127.0.0.1:${SERVER_PORT:-8080}/actuator/health/liveness" || exit 1
# The entrypoint execs java, so SIGTERM (docker stop) reaches the JVM: graceful shutdown, up to 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/scratchgpt"]
