package transport

import "testing"

// Matches accepts the token alone: not a prefix, an extension, another case,
// or anything for an empty token.
func TestSecretMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secret Secret
		got    string
		want   bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cret", "s3cre", false},
		{"s3cret", "s3cret ", false},
		{"s3cret", "S3CRET", false},
		{"s3cret", "", false},
		{"", "", false},
		{"", "anything", false},
	} {
		if got := tc.secret.Matches(tc.got); got != tc.want {
			t.Errorf("Secret(%q).Matches(%q) = %v, want %v", string(tc.secret), tc.got, got, tc.want)
		}
	}
}
