package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/relais-dev/relais/gateway/mandate"
)

// chromiumPath finds Debian's chromium; .ci/run installs it.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// TestBrowserSignInWithFranceConnect is the acceptance test of browser
// sign-in: headless Chromium signs a test citizen in through the sandbox's
// mock FranceConnect and lands back on Relais' /compte with a session and a
// recorded consent.
func TestBrowserSignInWithFranceConnect(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("SKIPPED LOUDLY: chromium is not installed, so the browser sign-in acceptance test did not run " +
			"(apt-get install chromium; .ci/run installs it)")
	}
	dataDir := t.TempDir()
	sb, err := startSandbox(t.Context(), sandboxOptions{Listen: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			t.Errorf("stopping sandbox: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	const citizen = `input[name="user"][value="angela.dubois"]`
	err = chromedp.Do(browser,
		chromedp.Navigate(sb.baseURL+"/auth/franceconnect/login?return_to=%2Fcompte"),
		chromedp.WaitVisible(citizen),
		chromedp.Click(citizen),
		chromedp.Click(`button[value="login"]`),
		chromedp.WaitVisible(`button[value="accept"]`),
		chromedp.Click(`button[value="accept"]`),
		chromedp.WaitVisible(`#who`),
	)
	if err != nil {
		t.Fatalf("signing in with headless Chromium: %v", err)
	}
	location, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatalf("reading the location: %v", err)
	}
	who, err := chromedp.Run(browser, chromedp.Text(`#who`))
	if err != nil {
		t.Fatalf("reading who is signed in: %v", err)
	}
	consents, err := chromedp.Run(browser, chromedp.Text(`#consents`))
	if err != nil {
		t.Fatalf("reading the consents: %v", err)
	}
	jar, err := chromedp.Run(browser, chromedp.Action[network.GetCookiesResult](
		func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
			return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{sb.baseURL + "/compte"}})
		}))
	if err != nil {
		t.Fatalf("reading the browser's cookies: %v", err)
	}
	cookies := jar.Cookies

	if location != sb.baseURL+"/compte" {
		t.Errorf("landed on %s, want %s/compte", location, sb.baseURL)
	}
	if !strings.Contains(who, "Angela Claire Louise") || !strings.Contains(who, "DUBOIS") {
		t.Errorf("/compte shows %q, want the citizen's names", who)
	}
	if !strings.Contains(consents, "Quotient familial") || !strings.Contains(consents, "API Particulier") {
		t.Errorf("/compte consents %q, want quotient familial at API Particulier", consents)
	}
	var session *network.Cookie
	for _, c := range cookies {
		if c.Name == "relais_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no relais_session cookie in the browser (cookies: %d)", len(cookies))
	}
	if !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax || session.Path != "/" {
		t.Errorf("session cookie HttpOnly=%v SameSite=%q Path=%q, want HttpOnly, Lax, /", session.HTTPOnly, session.SameSite, session.Path)
	}

	// The consent is in the store, for the citizen's person reference.
	key, err := os.ReadFile(filepath.Join(dataDir, "person-key"))
	if err != nil {
		t.Fatalf("reading the sandbox's person key: %v", err)
	}
	ref := mandate.PersonRef([]byte(strings.TrimSpace(string(key))), mandate.Person{
		FamilyName: "DUBOIS", GivenNames: "Angela Claire Louise", BirthDate: "1962-08-24",
		Sex: "female", BirthPlace: "75107", BirthCountry: "99100",
	})
	tenant, err := sb.gateway.Store().TenantByName(t.Context(), sandboxTenant)
	if err != nil {
		t.Fatalf("finding the demo tenant: %v", err)
	}
	got, err := sb.gateway.Store().ConsentsByPerson(t.Context(), tenant.ID, ref)
	if err != nil {
		t.Fatalf("listing consents: %v", err)
	}
	if len(got) != 1 || strings.Join(got[0].Categories, ",") != "quotient_familial" || strings.Join(got[0].Platforms, ",") != "apiparticulier" ||
		!got[0].ActiveAt(time.Now()) {
		t.Fatalf("consents in the store = %+v, want one active quotient_familial consent at apiparticulier", got)
	}
}
