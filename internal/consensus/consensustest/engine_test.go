package consensustest_test

import (
	"encoding/json"
	"testing"

	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/quant"
)

func testRules(t *testing.T) *quant.Rules {
	t.Helper()
	r := quant.DefaultRules("test-engine", 1_700_000_000_000)
	r.Engine = consensustest.Name
	return &r
}

func TestEngineConformance(t *testing.T) {
	consensustest.Run(t, func(t *testing.T) consensustest.Setup {
		r := testRules(t)
		e, err := consensustest.Factory(r)
		if err != nil {
			t.Fatal(err)
		}
		bang, err := quant.NewBang(*r)
		if err != nil {
			t.Fatal(err)
		}
		return consensustest.Setup{Engine: e, Bang: bang}
	})
}

func TestFactoryRefuses(t *testing.T) {
	r := testRules(t)
	r.Engine = "pow"
	if _, err := consensustest.Factory(r); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("another engine's rules: %v", err)
	}
	r = testRules(t)
	r.EngineParams = json.RawMessage(`{"x":1}`)
	if _, err := consensustest.Factory(r); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("engine params: %v", err)
	}
}
