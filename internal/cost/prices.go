package cost

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed prices/*.yaml
var builtinPrices embed.FS

// RegionPrices is one file of the price table: a region's prices.
type RegionPrices struct {
	Region          string             `yaml:"region" json:"region"`
	Currency        string             `yaml:"currency" json:"currency"`
	Retrieved       string             `yaml:"retrieved" json:"retrieved"`
	EC2             map[string]float64 `yaml:"ec2" json:"ec2"`          // per hour, by instance type
	RDS             map[string]float64 `yaml:"rds" json:"rds"`          // per hour, by instance class
	EBSGBMonth      map[string]float64 `yaml:"ebs_gb_month" json:"ebs"` // per GB-month, by volume type
	SnapshotGBMonth float64            `yaml:"snapshot_gb_month" json:"snapshot_gb_month"`
}

// Prices is the price table: every region's file.
type Prices struct {
	Currency string
	regions  map[string]RegionPrices
}

// BuiltinPrices is the table shipped in the binary (prices/*.yaml; the
// source is in prices/README.md).
func BuiltinPrices() *Prices {
	p, err := LoadPrices(builtinPrices, "prices")
	if err != nil {
		panic("cost: built-in price table: " + err.Error()) // a test loads it
	}
	return p
}

// LoadPrices reads every *.yaml file of dir in fsys, one region each.
// Unknown fields, a negative price, a region given twice or files of
// different currencies are errors naming the file.
func LoadPrices(fsys fs.FS, dir string) (*Prices, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("price table %s: no *.yaml files", dir)
	}
	p := &Prices{regions: map[string]RegionPrices{}}
	var errs []error
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var r RegionPrices
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		if err := r.check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		if _, dup := p.regions[r.Region]; dup {
			errs = append(errs, fmt.Errorf("%s: region %s is in another file too", n, r.Region))
		}
		if p.Currency == "" {
			p.Currency = r.Currency
		} else if r.Currency != p.Currency {
			errs = append(errs, fmt.Errorf("%s: currency %s differs from %s", n, r.Currency, p.Currency))
		}
		p.regions[r.Region] = r
	}
	return p, errors.Join(errs...)
}

func (r RegionPrices) check() error {
	if r.Region == "" || r.Currency == "" {
		return errors.New("region and currency are required")
	}
	for name, m := range map[string]map[string]float64{"ec2": r.EC2, "rds": r.RDS, "ebs_gb_month": r.EBSGBMonth} {
		for k, v := range m {
			if v < 0 {
				return fmt.Errorf("%s.%s: %v is negative", name, k, v)
			}
		}
	}
	if r.SnapshotGBMonth < 0 {
		return errors.New("snapshot_gb_month is negative")
	}
	return nil
}

// Regions lists the table's regions, sorted.
func (p *Prices) Regions() []RegionPrices {
	out := make([]RegionPrices, 0, len(p.regions))
	for _, r := range p.regions {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// Hourly is the hourly price of a compute resource: an EC2 instance type
// or an RDS instance class (db.*) in a region.
func (p *Prices) Hourly(region, typ string) (float64, bool) {
	r, ok := p.regions[region]
	if !ok {
		return 0, false
	}
	if strings.HasPrefix(typ, "db.") {
		v, ok := r.RDS[typ]
		return v, ok
	}
	v, ok := r.EC2[typ]
	return v, ok
}

// VolumeMonthly is the monthly price of size GB of an EBS volume type.
func (p *Prices) VolumeMonthly(region, volumeType string, sizeGB float64) (float64, bool) {
	v, ok := p.regions[region].EBSGBMonth[volumeType]
	return v * sizeGB, ok
}

// SnapshotMonthly is the monthly price of size GB of snapshot (the
// full size: an upper bound, as snapshots are incremental).
func (p *Prices) SnapshotMonthly(region string, sizeGB float64) (float64, bool) {
	r, ok := p.regions[region]
	return r.SnapshotGBMonth * sizeGB, ok
}
