package com.scratchgpt.api;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * Tomcat's own error answers as RFC 9457 problems instead of its HTML page: those for requests it cannot parse (a
 * bad request line, header or URI encoding such as {@code /%}), which never reach the application and its /error.
 * Tomcat 11's JsonErrorReportValve is not a problem (no title, and a stack trace when there is an exception), so
 * the host's error valve is this one.
 */
@Component
class TomcatErrorReports implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        // the one hook Spring Boot gives at the host: the context is already its child when customised
        factory.addContextCustomizers(context -> {
            StandardHost host = (StandardHost) context.getParent();
            host.getPipeline().addValve(new ProblemReportValve());
            // the host adds a valve of this class on start unless one is there: this one is
            host.setErrorReportValveClass(ProblemReportValve.class.getName());
        });
    }

    /** Writes a problem for an error response nothing has written a body for. */
    static final class ProblemReportValve extends ErrorReportValve {

        @Override
        protected void report(Request request, Response response, Throwable failure) {
            int status = response.getStatus();
            if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
                return;
            }
            AtomicBoolean ioAllowed = new AtomicBoolean();
            response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
            if (!ioAllowed.get()) {
                return;
            }
            HttpStatus known = HttpStatus.resolve(status);
            String title = known == null ? "Error" : known.getReasonPhrase();
            String detail = status == 400 ? "the request line, a header or the URI encoding is malformed"
                    : status >= 500 && status != 505 ? "The server failed to handle this request." : title;
            try {
                response.setContentType(ProblemHandler.PROBLEM_JSON.toString());
                Writer writer = response.getReporter();
                if (writer != null) {
                    writer.write("{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status
                            + ",\"detail\":\"" + detail + "\"}");
                    response.finishResponse();
                }
            } catch (IOException | IllegalStateException e) {
                // the connection is gone: nobody is left to answer
            }
        }
    }
}
