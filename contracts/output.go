package contracts

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteText writes reports for people: per platform, one line per case
// (✓ passed, ✗ failed, - skipped) with its operation, statuses and
// duration, its violations indented below, a summary line; then an overall
// line.
func WriteText(w io.Writer, reports []Report) error {
	bw := bufio.NewWriter(w)
	var all, allFailed, allSkipped int
	var total time.Duration
	for i, rep := range reports {
		if i > 0 {
			bw.WriteString("\n")
		}
		kind := "target"
		if rep.Mock {
			kind = "mock"
		}
		fmt.Fprintf(bw, "%s  %s (%s)\n", rep.Platform, rep.Target, kind)
		if len(rep.Credentials) > 0 {
			fmt.Fprintf(bw, "  credentials: %s\n", strings.Join(rep.Credentials, "; "))
		}
		nameW, opW := 0, 0
		for _, res := range rep.Results {
			nameW = max(nameW, len(res.Case))
			opW = max(opW, len(res.Operation))
		}
		for _, res := range rep.Results {
			mark := "✓"
			switch {
			case res.Failed():
				mark = "✗"
			case res.Skipped != "":
				mark = "-"
			}
			status := "   "
			if res.Status != 0 {
				status = strconv.Itoa(res.Status)
			}
			got := ""
			if res.Got != 0 && res.Got != res.Status {
				got = fmt.Sprintf(" (got %d)", res.Got)
			}
			fmt.Fprintf(bw, "  %s %-*s  %-*s  %s%s  %s", mark, opW, res.Operation, nameW, res.Case, status, got, roundDuration(res.Duration))
			if res.RateLimited > 0 {
				fmt.Fprintf(bw, "  (retried after %s)", plural(res.RateLimited, "429"))
			}
			if res.Skipped != "" {
				fmt.Fprintf(bw, "  skipped: %s", res.Skipped)
			}
			bw.WriteString("\n")
			for _, v := range res.Violations {
				path := v.Path
				if path == "" {
					path = "-"
				}
				fmt.Fprintf(bw, "      %-12s %s  %s\n", v.Kind, path, v.Detail)
			}
		}
		n, failed, skipped := rep.counts()
		all, allFailed, allSkipped, total = all+n, allFailed+failed, allSkipped+skipped, total+rep.Duration
		fmt.Fprintf(bw, "%s: %s, %d passed, %d failed, %d skipped in %s\n", rep.Platform, plural(n, "check"), n-failed-skipped, failed, skipped, roundDuration(rep.Duration))
	}
	verdict := "PASS"
	if allFailed > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(bw, "\n%s: %s, %s, %d passed, %d failed, %d skipped in %s\n", verdict, plural(len(reports), "platform"), plural(all, "check"), all-allFailed-allSkipped, allFailed, allSkipped, roundDuration(total))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// The JUnit XML schema as CI servers read it (testsuites > testsuite >
// testcase > failure | skipped).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes reports as JUnit XML: one testsuite per platform, one
// testcase per result (classname platform.operation), a failure listing
// every violation (type: the first violation's kind), skipped cases marked.
func WriteJUnit(w io.Writer, reports []Report) error {
	doc := junitSuites{Name: "relais contracts"}
	var total time.Duration
	for _, rep := range reports {
		n, failed, skipped := rep.counts()
		suite := junitSuite{Name: rep.Platform, Tests: n, Failures: failed, Skipped: skipped, Time: seconds(rep.Duration),
			Properties: []junitProperty{{Name: "target", Value: rep.Target}, {Name: "mock", Value: strconv.FormatBool(rep.Mock)}}}
		for _, res := range rep.Results {
			classname := rep.Platform
			if res.Operation != "" {
				classname += "." + res.Operation
			}
			tc := junitCase{Name: res.Case, Classname: classname, Time: seconds(res.Duration)}
			switch {
			case res.Failed():
				var text strings.Builder
				for _, v := range res.Violations {
					path := v.Path
					if path == "" {
						path = "-"
					}
					fmt.Fprintf(&text, "%s %s: %s\n", v.Kind, path, v.Detail)
				}
				tc.Failure = &junitFailure{Message: failureMessage(res), Type: res.Violations[0].Kind, Text: text.String()}
			case res.Skipped != "":
				tc.Skipped = &junitSkipped{Message: res.Skipped}
			}
			suite.Cases = append(suite.Cases, tc)
		}
		doc.Tests += n
		doc.Failures += failed
		doc.Skipped += skipped
		total += rep.Duration
		doc.Suites = append(doc.Suites, suite)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	return nil
}

// failureMessage sums a failed result up in one line.
func failureMessage(res Result) string {
	v := res.Violations[0]
	msg := v.Kind
	if v.Path != "" {
		msg += " " + v.Path
	}
	msg += ": " + v.Detail
	if n := len(res.Violations); n > 1 {
		msg += fmt.Sprintf(" (and %d more)", n-1)
	}
	return msg
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
