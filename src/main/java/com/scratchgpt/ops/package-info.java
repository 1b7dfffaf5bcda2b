/**
 * Operations: the service's metrics, the model's health component and what /actuator/info reports.
 * Implements generation's observer and reads the model and the scheduler; changes neither.
 */
package com.scratchgpt.ops;
