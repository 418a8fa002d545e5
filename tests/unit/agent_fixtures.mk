# Agent config fixtures (tests/unit/fixtures/agent/*.yaml), copied into $(OUTPUT)/fixtures/agent/
# next to the other unit-test fixtures. Included by the top Makefile.
AGENT_FIX := $(patsubst tests/unit/fixtures/agent/%,$(OUTPUT)/fixtures/agent/%,\
	       $(wildcard tests/unit/fixtures/agent/*.yaml))
UNIT_FIXTURES += $(AGENT_FIX)

$(OUTPUT)/tests/unit/test_agent_config: $(AGENT_FIX)

$(OUTPUT)/fixtures/agent/%.yaml: tests/unit/fixtures/agent/%.yaml
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@
