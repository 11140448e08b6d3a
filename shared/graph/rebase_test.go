package graph

import "testing"

func TestRebaseStoredLinks(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:4000/v1.0", Credential: StaticToken("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:46025/v1.0/servicePrincipals/delta?$deltatoken=abc", "http://127.0.0.1:4000/v1.0/servicePrincipals/delta?$deltatoken=abc"},
		{"https://graph.microsoft.com/v1.0/sites/s/lists/l/items/delta?token=x", "http://127.0.0.1:4000/v1.0/sites/s/lists/l/items/delta?token=x"},
		{"https://evil.example/other/path", ""},
		{"relative/link", ""},
	} {
		got, err := c.rebase(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("rebase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
