package contractsimport

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
)

type fakeImporter struct{ got []contracts.Contract }

func (f *fakeImporter) Import(_ context.Context, cs []contracts.Contract) (store.BatchStats, error) {
	f.got = append(f.got, cs...)
	return store.BatchStats{Transactions: (len(cs) + 99) / 100, Entities: len(cs)}, nil
}

func post(t *testing.T, h *Handler, ct, body string) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{"Method": "POST",
		"Url": "http://127.0.0.1:7071/api/contracts:import", "Headers": map[string]string{"Content-Type": ct}, "Body": body}},
		"Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation("ContractsImport", "i", raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	return out.Status(), out.Body
}

func TestImport(t *testing.T) {
	f := &fakeImporter{}
	h, _ := New(f)
	head := "id,title,supplier,serviceArea,owner,route,startDate,endDate\n"
	good := head + "C-1,Print,Acme,Housing,a@c.example,ict-champions-housing,01/06/2024,31/05/2027\n"
	if s, b := post(t, h, "application/json", good); s != 400 || !strings.Contains(b, "Content-Type") {
		t.Errorf("content type: %d %s", s, b)
	}
	bad := good + "C-2,Print,Acme,Housing,a@c.example,ict-champions-housing,01/06/2024,31/05/2023\n"
	s, b := post(t, h, "text/csv", bad)
	if s != 400 || !strings.Contains(b, `"line":3`) || !strings.Contains(b, `"endDate"`) || len(f.got) != 0 {
		t.Errorf("bad row: %d %s (wrote %d)", s, b, len(f.got))
	}
	s, b = post(t, h, "text/csv; charset=utf-8", good)
	if s != 200 || !strings.Contains(b, `"imported":1`) || len(f.got) != 1 {
		t.Errorf("good: %d %s", s, b)
	}
}
