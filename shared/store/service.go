package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// DefaultEndpointSuffix is the storage endpoint suffix of Azure's public cloud.
const DefaultEndpointSuffix = "core.windows.net"

// Config says how to reach a storage account's Table service. Set exactly
// one of: ConnectionString (Azurite, development), or AccountName with
// Credential (managed identity in Azure).
type Config struct {
	// ConnectionString is a storage connection string. It is a secret: it
	// never appears in errors.
	ConnectionString string
	// AccountName is the storage account name, used with Credential.
	AccountName string
	// EndpointSuffix is the storage endpoint suffix for AccountName, such as
	// "core.usgovcloudapi.net" in a national cloud. Empty means
	// DefaultEndpointSuffix. A connection string carries its own endpoints,
	// so EndpointSuffix is ignored with one.
	EndpointSuffix string
	// Credential authorises requests to AccountName, typically
	// azidentity.NewManagedIdentityCredential.
	Credential azcore.TokenCredential
	// TryTimeout bounds one attempt of a request, so an endpoint that
	// accepts connections but never answers cannot hold a run (default
	// DefaultTryTimeout; the SDK itself sets no bound).
	TryTimeout time.Duration
	// MaxRetries is the SDK's retry count after a failed attempt (0: the
	// SDK's default of 3; negative: no retries). Tests shorten it.
	MaxRetries int
}

// DefaultTryTimeout is Config.TryTimeout's default.
const DefaultTryTimeout = 30 * time.Second

func (cfg Config) clientOptions() *aztables.ClientOptions {
	opts := &aztables.ClientOptions{}
	opts.Retry.TryTimeout = cfg.TryTimeout
	if opts.Retry.TryTimeout <= 0 {
		opts.Retry.TryTimeout = DefaultTryTimeout
	}
	opts.Retry.MaxRetries = int32(cfg.MaxRetries)
	return opts
}

// Service is a connection to one storage account's Table service. It is safe
// for concurrent use; create one per process and share it.
type Service struct {
	client *aztables.ServiceClient
}

var accountNameRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// NewService checks cfg and returns a Service. It makes no network call; use
// Ping to check reachability. Every problem with cfg is reported at once.
func NewService(cfg Config) (*Service, error) {
	hasConn := cfg.ConnectionString != ""
	hasAccount := cfg.AccountName != "" || cfg.Credential != nil
	switch {
	case hasConn && hasAccount:
		return nil, errors.New("store: config sets both ConnectionString and AccountName/Credential; set exactly one way")
	case !hasConn && !hasAccount:
		return nil, errors.New("store: config is empty: set ConnectionString (Azurite, development) or AccountName and Credential (managed identity)")
	case hasConn:
		c, err := aztables.NewServiceClientFromConnectionString(cfg.ConnectionString, cfg.clientOptions())
		if err != nil {
			// The SDK's message is fixed text; the connection string is not echoed.
			return nil, fmt.Errorf("store: ConnectionString: %w", err)
		}
		return &Service{client: c}, nil
	}

	var errs []error
	if cfg.AccountName == "" {
		errs = append(errs, errors.New("store: AccountName is required with Credential"))
	} else if !accountNameRE.MatchString(cfg.AccountName) {
		errs = append(errs, fmt.Errorf("store: AccountName %q is not a storage account name (3-24 lower-case letters and digits)", cfg.AccountName))
	}
	if cfg.Credential == nil {
		errs = append(errs, errors.New("store: Credential is required with AccountName (e.g. a managed identity credential)"))
	}
	suffix := cfg.EndpointSuffix
	if suffix == "" {
		suffix = DefaultEndpointSuffix
	} else if strings.ContainsAny(suffix, "/:?#@ ") || strings.HasPrefix(suffix, ".") {
		errs = append(errs, fmt.Errorf("store: EndpointSuffix %q must be a bare host suffix such as %q", suffix, DefaultEndpointSuffix))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	opts := cfg.clientOptions()
	opts.Cloud = cloudFor(suffix)
	url := "https://" + cfg.AccountName + ".table." + suffix + "/"
	c, err := aztables.NewServiceClient(url, cfg.Credential, opts)
	if err != nil {
		return nil, fmt.Errorf("store: client for %s: %w", url, err)
	}
	return &Service{client: c}, nil
}

// cloudFor picks the cloud whose token audience matches the endpoint suffix.
func cloudFor(suffix string) cloud.Configuration {
	switch suffix {
	case "core.usgovcloudapi.net":
		return cloud.AzureGovernment
	case "core.chinacloudapi.cn":
		return cloud.AzureChina
	}
	return cloud.AzurePublic
}

// Ping checks that the Table service answers and accepts our credentials by
// listing at most one table. Use it from a health probe.
func (s *Service) Ping(ctx context.Context) error {
	top := int32(1)
	pager := s.client.NewListTablesPager(&aztables.ListTablesOptions{Top: &top})
	if _, err := pager.NextPage(ctx); err != nil {
		return wrap("ping", "service", "", err)
	}
	return nil
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{2,62}$`)

// EnsureTables creates each named table that does not exist yet. Names must
// be 3-63 letters and digits, starting with a letter; all bad names are
// reported before any call.
func (s *Service) EnsureTables(ctx context.Context, names ...string) error {
	var errs []error
	for _, n := range names {
		if !tableNameRE.MatchString(n) {
			errs = append(errs, fmt.Errorf("store: table name %q must be 3-63 letters and digits, starting with a letter", n))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, n := range names {
		if _, err := s.client.CreateTable(ctx, n, nil); err != nil {
			if e := wrap("create table", n, "", err); !errors.Is(e, ErrConflict) {
				return e
			}
		}
	}
	return nil
}
