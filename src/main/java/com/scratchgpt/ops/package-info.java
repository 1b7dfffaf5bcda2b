/**
 * Operations: the service's metrics, the model's health component and what /actuator/info reports.
 * Reads the model and generation; changes neither.
 */
package com.scratchgpt.ops;
