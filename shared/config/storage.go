package config

import "strings"

// DevelopmentStorage is the shorthand Azure tools accept for the local
// storage emulator, Azurite.
const DevelopmentStorage = "UseDevelopmentStorage=true"

// AzuriteConnectionString is the full connection string for Azurite on
// 127.0.0.1 with its well-known development account. The key is Azurite's
// public, documented development key, not a secret.
const AzuriteConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" +
	"QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" +
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// ExpandConnectionString turns UseDevelopmentStorage=true into Azurite's
// connection string (the Go SDKs do not understand the shorthand) and
// returns any other value unchanged.
func ExpandConnectionString(s string) string {
	if strings.EqualFold(strings.TrimSpace(strings.TrimSuffix(s, ";")), DevelopmentStorage) {
		return AzuriteConnectionString
	}
	return s
}
