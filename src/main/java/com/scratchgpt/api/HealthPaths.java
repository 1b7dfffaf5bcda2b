package com.scratchgpt.api;

import java.io.IOException;

import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * /actuator/health/{group}/{component}/...: a path naming no health component is a 404. Spring Boot 4.1's health
 * endpoint fails (500) when a part other than the last names nothing ({@code /actuator/health/a/b}); the other
 * unknown paths it answers with a bodiless 404, which {@link BodilessErrors} turns into a problem.
 */
@Component
class HealthPaths extends OncePerRequestFilter {

    private static final String HEALTH = "/actuator/health/";

    private final HealthContributorRegistry registry;
    private final HealthEndpointGroups groups;

    HealthPaths(HealthContributorRegistry registry, HealthEndpointGroups groups) {
        this.registry = registry;
        this.groups = groups;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith(HEALTH);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI().substring(HEALTH.length());
        if (!path.isEmpty() && !exists(path.split("/"))) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        chain.doFilter(request, response);
    }

    /** Whether each part of the path names a child of the one before, after an optional group. */
    private boolean exists(String[] parts) {
        HealthContributors contributors = registry;
        for (int i = groups.get(parts[0]) != null ? 1 : 0; i < parts.length; i++) {
            HealthContributor child = contributors.getContributor(parts[i]);
            if (child == null) {
                return false;
            }
            if (!(child instanceof HealthContributors nested)) {
                return i == parts.length - 1;
            }
            contributors = nested;
        }
        return true;
    }
}
