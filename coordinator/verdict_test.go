package coordinator_test

import (
	"testing"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// ReportResult converts a scheduler.Verdict to pb.ReportStatus by number.
func TestVerdictNumbersMatchReportStatus(t *testing.T) {
	t.Parallel()
	for v, want := range map[scheduler.Verdict]pb.ReportStatus{
		scheduler.Accepted:        pb.ReportStatus_REPORT_STATUS_ACCEPTED,
		scheduler.Duplicate:       pb.ReportStatus_REPORT_STATUS_DUPLICATE,
		scheduler.Rejected:        pb.ReportStatus_REPORT_STATUS_REJECTED,
		scheduler.FailureRecorded: pb.ReportStatus_REPORT_STATUS_FAILURE_RECORDED,
		scheduler.Released:        pb.ReportStatus_REPORT_STATUS_RELEASED,
	} {
		if got := pb.ReportStatus(v); got != want {
			t.Errorf("verdict %d is %v on the wire, want %v", v, got, want)
		}
	}
}
