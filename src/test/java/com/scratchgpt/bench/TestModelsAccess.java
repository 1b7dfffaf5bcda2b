package com.scratchgpt.bench;
import com.scratchgpt.model.*;
class TestModelsAccess { static GPTModel model() { return TestModels.seed123(); } }
