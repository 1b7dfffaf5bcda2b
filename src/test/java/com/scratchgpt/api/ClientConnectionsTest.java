package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Lines of the kernel's TCP tables, as Linux writes them, read into the connections Tomcat reports. */
class ClientConnectionsTest {

    @Test
    void aConnectionInCloseWaitIsReadWithTheAddressesTomcatReports() {
        // /proc/net/tcp6 of a dual-stack server socket: the client 127.0.0.1:56876 closed its side of port 43223
        assertThat(ClientConnections.closedByClient("   3: 0000000000000000FFFF00000100007F:A8D7 "
                + "0000000000000000FFFF00000100007F:DE2C 08 00000000:00000001 00:00000000 00000000     0        0 1 1"))
                .isEqualTo(new ClientConnections.Connection(43223, "127.0.0.1", 56876));
        // /proc/net/tcp: 10.1.2.3:8080 <- 192.168.0.7:40000
        assertThat(ClientConnections.closedByClient("   0: 0302010A:1F90 0700A8C0:9C40 08 00000000:00000000 00:00000000"))
                .isEqualTo(new ClientConnections.Connection(8080, "192.168.0.7", 40000));
        // ::1 as Java writes it
        assertThat(ClientConnections.closedByClient("   1: 00000000000000000000000001000000:1F90 "
                + "00000000000000000000000001000000:9C40 08 00000000:00000000 00:00000000"))
                .isEqualTo(new ClientConnections.Connection(8080, "0:0:0:0:0:0:0:1", 40000));
    }

    @Test
    void connectionsInAnyOtherStateAndTheHeaderAreNotClosed() {
        assertThat(ClientConnections.closedByClient("   1: 0000000000000000FFFF00000100007F:DE2C "
                + "0000000000000000FFFF00000100007F:A8D7 01 00000000:00000000 00:00000000")).isNull(); // established
        assertThat(ClientConnections.closedByClient("  sl  local_address rem_address   st tx_queue rx_queue")).isNull();
    }
}
