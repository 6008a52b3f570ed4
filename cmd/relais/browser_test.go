package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// headlessChromium starts a headless Chromium for t, stopped at cleanup,
// and returns its browsing context, bounded to 90 s.
func headlessChromium(t *testing.T, chromium string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
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
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	return browser
}

// startTestSandbox starts a sandbox in a temporary directory, stopped at
// cleanup, and returns it and its data directory.
func startTestSandbox(t *testing.T) (*sandbox, string) {
	t.Helper()
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
	return sb, dataDir
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
	sb, dataDir := startTestSandbox(t)
	browser := headlessChromium(t, chromium)

	const citizen = `input[name="user"][value="angela.dubois"]`
	err := chromedp.Do(browser,
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
	if len(got) != 1 || strings.Join(got[0].Categories, ",") != "household" || strings.Join(got[0].Platforms, ",") != "apiparticulier" ||
		!got[0].ActiveAt(time.Now()) {
		t.Fatalf("consents in the store = %+v, want one active household consent at apiparticulier", got)
	}
}

var sandboxSMSCode = regexp.MustCompile(`donnez-lui ce code : ([0-9]{6})`)

// TestBrowserProfessionalCreatesSMSMandate: headless Chromium signs a
// professional in through the sandbox's mock ProConnect, creates a mandate
// confirmed by SMS in the professional space, reads the code on the
// sandbox's outbox page and confirms it: the mandate is active, held by
// her, for the demo tenant her SIRET is registered with.
func TestBrowserProfessionalCreatesSMSMandate(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("SKIPPED LOUDLY: chromium is not installed, so the browser test of the professional space did not run " +
			"(apt-get install chromium; .ci/run installs it)")
	}
	sb, _ := startTestSandbox(t)
	browser := headlessChromium(t, chromium)

	const sophie = `input[name="user"][value="sophie.garnier"]`
	err := chromedp.Do(browser,
		chromedp.Navigate(sb.baseURL+"/auth/proconnect/login?return_to=%2Fpro"),
		chromedp.WaitVisible(sophie),
		chromedp.Click(sophie),
		chromedp.Click(`button[value="login"]`),
		chromedp.WaitVisible(`button[value="accept"]`),
		chromedp.Click(`button[value="accept"]`),
		chromedp.WaitVisible(`#pro-header`),
		chromedp.Click(`#new-mandate`),
		chromedp.WaitVisible(`#create`),
		chromedp.SendKeys(`#family_name`, "Lefèvre"),
		chromedp.SendKeys(`#given_names`, "Zoé Marie-Hélène"),
		chromedp.SetValue(`#birth_date`, "1948-03-14"),
		chromedp.Click(`input[name="sex"][value="female"]`),
		chromedp.SetValue(`#birth_country`, "99134"),
		chromedp.Click(`input[name="demarches"][value="social"]`),
		chromedp.Click(`input[name="demarches"][value="sante"]`),
		chromedp.Click(`input[name="duration_days"][value="31"]`),
		chromedp.Click(`input[name="consent_method"][value="remote_sms"]`),
		chromedp.SendKeys(`#phone`, "06 12 34 56 78"),
		chromedp.Click(`#create-submit`),
		chromedp.WaitVisible(`#confirm`),
	)
	if err != nil {
		t.Fatalf("creating a mandate with headless Chromium: %v", err)
	}
	codePage, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatalf("reading the location: %v", err)
	}
	m := regexp.MustCompile(`/pro/mandats/(mdt_[a-z2-7]{16})/code$`).FindStringSubmatch(codePage)
	if m == nil {
		t.Fatalf("after creation the browser is at %s, want the code page", codePage)
	}
	id := m[1]
	err = chromedp.Do(browser,
		chromedp.Click(`#sandbox-sms`),
		chromedp.WaitVisible(`#outbox`),
	)
	if err != nil {
		t.Fatalf("opening the sandbox outbox: %v", err)
	}
	outbox, err := chromedp.Run(browser, chromedp.Text(`#outbox`))
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	code := sandboxSMSCode.FindStringSubmatch(outbox)
	if code == nil || !strings.Contains(outbox, id) || !strings.Contains(outbox, "+33612345678") {
		t.Fatalf("the outbox shows no code for %s: %q", id, outbox)
	}
	err = chromedp.Do(browser,
		chromedp.Navigate(codePage),
		chromedp.WaitVisible(`#code`),
		chromedp.SendKeys(`#code`, code[1]),
		chromedp.Click(`#confirm-submit`),
		chromedp.WaitVisible(`#notice`),
	)
	if err != nil {
		t.Fatalf("confirming with the code: %v", err)
	}
	status, err := chromedp.Run(browser, chromedp.Text(`#status`))
	if err != nil {
		t.Fatalf("reading the status: %v", err)
	}
	if status != "Actif" {
		t.Errorf("the mandate page says %q, want Actif", status)
	}

	got, err := sb.gateway.Store().Mandate(t.Context(), id)
	if err != nil {
		t.Fatalf("reading the mandate: %v", err)
	}
	tenant, err := sb.gateway.Store().TenantBySIRET(t.Context(), sandboxSIRET)
	if err != nil {
		t.Fatalf("finding the demo tenant by its SIRET: %v", err)
	}
	if got.Status != mandate.StatusActive || got.TenantID != tenant.ID || tenant.Name != sandboxTenant ||
		got.Professional.Name != "Sophie GARNIER" || got.Consent != mandate.RemoteSMS || got.Phone != "+33612345678" {
		t.Fatalf("mandate in the store = %+v, want Sophie's active SMS mandate for the demo tenant", got)
	}
}
