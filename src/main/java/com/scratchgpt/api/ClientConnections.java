package com.scratchgpt.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Notices clients that close their connection while their request waits for its answer. Tomcat tells an
 * asynchronous request nothing when its client closes while the request neither reads nor writes (tried on
 * Tomcat 11: no AsyncListener or ReadListener event; a stream learns it at its next write), so twice a
 * second, while such requests wait, this reads the kernel's TCP tables (Linux {@code /proc/net/tcp} and
 * {@code tcp6}) and calls back those whose connection is in CLOSE_WAIT: the client's side is closed. A
 * client behind a proxy is seen when the proxy closes its connection, as it does when its client goes.
 * Where there are no such tables nothing is noticed, and the request runs to its end.
 */
@Component
class ClientConnections implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ClientConnections.class);
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    /** The state column of a connection whose peer has closed its side (include/net/tcp_states.h). */
    private static final String CLOSE_WAIT = "08";
    private static final long CHECK_MILLIS = 500;

    /** One TCP connection as the kernel's table shows it: the server's port, the client's address and port. */
    record Connection(int localPort, String remoteAddress, int remotePort) {

        static Connection of(HttpServletRequest request) {
            return new Connection(request.getLocalPort(), request.getRemoteAddr(), request.getRemotePort());
        }
    }

    private final Map<Connection, Runnable> watched = new ConcurrentHashMap<>();
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "client-connections");
        t.setDaemon(true);
        return t;
    });

    ClientConnections() {
        if (Files.isReadable(TABLES.get(0))) {
            checks.scheduleWithFixedDelay(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            log.info("No {}: a client closing its connection does not cancel its plain (not streamed) request",
                    TABLES.get(0));
        }
    }

    /**
     * Runs {@code closed} once if the client of this request closes its connection, until the returned
     * runnable is run (when the request no longer waits).
     */
    Runnable watch(HttpServletRequest request, Runnable closed) {
        Connection connection = Connection.of(request);
        watched.put(connection, closed);
        return () -> watched.remove(connection, closed);
    }

    private void check() {
        if (watched.isEmpty()) {
            return;
        }
        try {
            for (Path table : TABLES) {
                if (Files.isReadable(table)) {
                    try (Stream<String> lines = Files.lines(table)) {
                        lines.skip(1).map(ClientConnections::closedByClient).forEach(connection -> {
                            Runnable closed = connection == null ? null : watched.remove(connection);
                            if (closed != null) {
                                closed.run();
                            }
                        });
                    }
                }
            }
        } catch (IOException | RuntimeException e) { // a line the parser does not know, a table gone
            log.debug("reading the TCP tables failed: {}", e.toString());
        }
    }

    /**
     * The connection of one line of a TCP table if it is in CLOSE_WAIT, else null. A line reads
     * {@code sl local_address rem_address st ...}, an address as hex {@code ADDRESS:PORT} with the address in
     * 32-bit words of host (little-endian) order.
     */
    static Connection closedByClient(String line) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 4 || !fields[3].equals(CLOSE_WAIT)) {
            return null;
        }
        String[] local = fields[1].split(":");
        String[] remote = fields[2].split(":");
        return new Connection(Integer.parseInt(local[1], 16), address(remote[0]), Integer.parseInt(remote[1], 16));
    }

    /** An address as Java writes it (an IPv4-mapped IPv6 address as IPv4, as Tomcat reports it). */
    private static String address(String hex) {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int b = 0; b < 4; b++) {
                int at = (word * 4 + 3 - b) * 2; // each word's bytes are stored least significant first
                bytes[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        try {
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + hex, e);
        }
    }

    @Override
    public void destroy() {
        checks.shutdownNow();
    }
}
