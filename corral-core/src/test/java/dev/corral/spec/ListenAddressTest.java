package dev.corral.spec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The listen syntax of NGINX Unit, and an error for each way to get it wrong. */
class ListenAddressTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:8080        | 127.0.0.1:8080
            0.0.0.0:80            | 0.0.0.0:80
            *:8080                | 0.0.0.0:8080
            :8080                 | 0.0.0.0:8080
            10.1.2.3:0            | 10.1.2.3:0
            [::1]:8080            | [0:0:0:0:0:0:0:1]:8080
            [::]:443              | [0:0:0:0:0:0:0:0]:443
            [fd00::2]:65535       | [fd00:0:0:0:0:0:0:2]:65535
            unix:/run/app.sock    | unix:/run/app.sock
            """)
    void goodAddresses(String text, String canonical) {
        assertThat(ListenAddress.parse(text).toString()).isEqualTo(canonical);
    }

    @Test
    void theirParts() throws Exception {
        assertThat(ListenAddress.parse("127.0.0.1:8080"))
                .isEqualTo(new ListenAddress.Inet(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 8080));
        assertThat(ListenAddress.parse("unix:/run/app.sock")).isEqualTo(new ListenAddress.Unix("/run/app.sock"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            8080                  | expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH
            127.0.0.1             | expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH
            127.0.0.1:            | no port after the last ':'
            127.0.0.1:http        | the port must be a number from 0 to 65535, not "http"
            127.0.0.1:-1          | the port must be a number from 0 to 65535, not "-1"
            127.0.0.1:65536       | the port must be a number from 0 to 65535, not 65536
            127.0.0.1:1234567     | the port must be a number from 0 to 65535, not "1234567"
            localhost:8080        | "localhost" is not a numeric IPv4 address (host names are not resolved)
            256.0.0.1:80          | "256.0.0.1" is not an IPv4 address (four numbers 0-255, as in 127.0.0.1)
            127.1:80              | "127.1" is not an IPv4 address (four numbers 0-255, as in 127.0.0.1)
            010.0.0.1:80          | "010.0.0.1" is not an IPv4 address (four numbers 0-255, as in 127.0.0.1)
            ::1:8080              | an IPv6 address must be in brackets, as in [::1]:8080
            [::1:8080             | an IPv6 address must be closed with ']' before the port
            [1.2.3.4]:80          | "1.2.3.4" in brackets is not an IPv6 address
            [::g]:80              | "::g" is not an IPv6 address
            [fe80::1%eth0]:80     | IPv6 zone ids (%...) are not supported
            unix:run/app.sock     | the Unix socket path must be absolute
            unix:@abstract        | abstract Unix sockets are not supported; give a path
            unix:                 | the Unix socket path must be absolute
            """)
    void badAddressesSayWhatIsWrong(String text, String why) {
        assertThatThrownBy(() -> ListenAddress.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad listen address \"" + text + "\": " + why);
    }

    @Test
    void aUnixPathMustFitSunPath() {
        String path = "/" + "x".repeat(107);
        assertThatThrownBy(() -> ListenAddress.parse("unix:" + path))
                .hasMessage("bad listen address \"unix:" + path + "\": the Unix socket path is 108 bytes; at most 107 fit");
        assertThat(ListenAddress.parse("unix:/" + "x".repeat(106))).isInstanceOf(ListenAddress.Unix.class);
    }
}
