package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ContentChanger changes what the server's content is made of: change
// writes in one transaction with the content loaded as it will be, and the
// new content reaches every replica; content that would not load refuses
// the change (an *Error of kind Invalid listing the problems). The
// application (internal/app) is one.
type ContentChanger interface {
	ChangeContent(ctx context.Context, actor string, change func(ctx context.Context, tx store.Tx) error) error
}

// PackSummary is a pack as the catalogue offers it and as the caller's
// tenant has it installed.
type PackSummary struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Service     string `json:"service,omitempty"`
	// Available is the catalogue's version ("" for a pack installed from
	// a directory that the catalogue does not have).
	Available string `json:"available,omitempty"`
	// Installed is the tenant's version ("" when not installed).
	Installed string `json:"installed,omitempty"`
	// Upgrade says the catalogue has a newer version than the installed.
	Upgrade bool `json:"upgrade,omitempty"`
}

// PackDetail is one pack: its manifest, its documents and alerts, and the
// tenant's installation.
type PackDetail struct {
	PackSummary
	Requires  pack.Requires   `json:"requires"`
	Scenarios []pack.Scenario `json:"scenarios"`
	Documents []string        `json:"documents"`
	Alerts    []string        `json:"alerts"`
	Digest    string          `json:"digest"`
	// Installation is the tenant's (nil when not installed); its files
	// are left out.
	Installation *store.PackInstallation `json:"installation,omitempty"`
}

// PackDiff is what an upgrade would change.
type PackDiff struct {
	Name      string        `json:"name"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Downgrade bool          `json:"downgrade,omitempty"`
	Changes   []pack.Change `json:"changes"`
}

// PackRequest installs or upgrades a pack: the catalogue's, or the one
// in Files (a pack from a directory, `flywheel pack install --dir`).
type PackRequest struct {
	Files []pack.File `json:"files,omitempty"`
	// Force allows an upgrade to an older or equal version.
	Force bool `json:"force,omitempty"`
}

// ListPacks lists the catalogue and the tenant's installed packs.
func (s *Service) ListPacks(ctx context.Context, c Caller) ([]PackSummary, error) {
	all, err := pack.Catalogue()
	if err != nil {
		return nil, err
	}
	installed, err := s.st.ListPackInstallations(ctx, c.Tenant)
	if err != nil {
		return nil, err
	}
	byName := map[string]store.PackInstallation{}
	for _, in := range installed {
		byName[in.Name] = in
	}
	var out []PackSummary
	for _, p := range all {
		sum := summary(p, "")
		if in, ok := byName[p.Name]; ok {
			sum = summary(p, in.Version)
			delete(byName, p.Name)
		}
		out = append(out, sum)
	}
	for _, in := range installed {
		if _, ok := byName[in.Name]; ok {
			out = append(out, PackSummary{Name: in.Name, Installed: in.Version})
		}
	}
	return out, nil
}

func summary(p *pack.Pack, installed string) PackSummary {
	return PackSummary{Name: p.Name, Description: p.Description, Service: p.Spec.Service, Available: p.Spec.Version,
		Installed: installed, Upgrade: installed != "" && pack.Compare(p.Spec.Version, installed) > 0}
}

// ShowPack describes pack name: the catalogue's, else the tenant's
// installation of a pack from a directory.
func (s *Service) ShowPack(ctx context.Context, c Caller, name string) (PackDetail, error) {
	in, err := s.st.GetPackInstallation(ctx, c.Tenant, name)
	installed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return PackDetail{}, err
	}
	p, ok := pack.Find(name)
	if !ok && !installed {
		return PackDetail{}, errorf(NotFound, "no pack %q in the catalogue or installed", name)
	}
	if !ok {
		if p, err = installedPack(in); err != nil {
			return PackDetail{}, err
		}
	}
	d := PackDetail{PackSummary: summary(p, ""), Requires: p.Spec.Requires, Scenarios: p.Spec.Scenarios, Alerts: p.Alerts, Digest: p.Digest}
	if !ok {
		d.Available = ""
	}
	for _, doc := range p.Documents {
		d.Documents = append(d.Documents, doc.Key())
	}
	if installed {
		d.Installed, d.Upgrade = in.Version, ok && pack.Compare(p.Spec.Version, in.Version) > 0
		in.Files = nil
		d.Installation = &in
	}
	return d, nil
}

func installedPack(in store.PackInstallation) (*pack.Pack, error) {
	p, err := pack.FromFiles(packFiles(in.Files), pack.SourceName(in.Name))
	if err != nil {
		return nil, fmt.Errorf("installed pack %s: %w", in.Name, err)
	}
	return p, nil
}

func packFiles(fs []store.PackFile) []pack.File {
	out := make([]pack.File, len(fs))
	for i, f := range fs {
		out[i] = pack.File{Path: f.Path, Data: f.Data}
	}
	return out
}

// candidate is the pack a request installs: the one in its files (which
// must be named name) or the catalogue's.
func candidate(name string, req PackRequest) (*pack.Pack, error) {
	if len(req.Files) == 0 {
		p, ok := pack.Find(name)
		if !ok {
			return nil, errorf(NotFound, "no pack %q in the catalogue", name)
		}
		return p, nil
	}
	if len(req.Files) > pack.MaxFiles {
		return nil, errorf(Invalid, "a pack holds at most %d files", pack.MaxFiles)
	}
	p, err := pack.FromFiles(req.Files, pack.SourceName(name))
	if err != nil {
		return nil, &Error{Kind: Invalid, Msg: "the pack does not load:\n" + err.Error(), Err: err}
	}
	if p.Name != name {
		return nil, errorf(Invalid, "the files hold pack %q, not %q", p.Name, name)
	}
	return p, nil
}

// InstallPack installs pack name for the caller's tenant; its documents
// become the tenant's content on every replica.
func (s *Service) InstallPack(ctx context.Context, c Caller, name string, req PackRequest) (store.PackInstallation, error) {
	p, err := candidate(name, req)
	if err != nil {
		return store.PackInstallation{}, err
	}
	return s.putPack(ctx, c, p, func(old *store.PackInstallation) error {
		if old != nil {
			return errorf(Conflict, "pack %s %s is installed; upgrade it (flywheel pack upgrade %s)", name, old.Version, name)
		}
		return nil
	})
}

// UpgradePack replaces the tenant's installed pack name with the
// catalogue's (or the request's) newer version; an older or equal one
// needs Force.
func (s *Service) UpgradePack(ctx context.Context, c Caller, name string, req PackRequest) (store.PackInstallation, error) {
	p, err := candidate(name, req)
	if err != nil {
		return store.PackInstallation{}, err
	}
	return s.putPack(ctx, c, p, func(old *store.PackInstallation) error {
		switch {
		case old == nil:
			return errorf(NotFound, "pack %s is not installed; install it (flywheel pack install %s)", name, name)
		case old.Digest == p.Digest:
			return errorf(Conflict, "pack %s %s is installed already, unchanged", name, old.Version)
		case pack.Compare(p.Spec.Version, old.Version) <= 0 && !req.Force:
			return errorf(Conflict, "pack %s %s is installed; %s is not newer (use --force to replace it anyway)", name, old.Version, p.Spec.Version)
		}
		return nil
	})
}

// putPack writes p as the tenant's installation, after check has seen
// the current one (nil when none), with its audit record, through the
// content changer.
func (s *Service) putPack(ctx context.Context, c Caller, p *pack.Pack, check func(old *store.PackInstallation) error) (store.PackInstallation, error) {
	if s.content == nil {
		return store.PackInstallation{}, errorf(Unavailable, "this server does not install packs")
	}
	now := s.now()
	in := store.PackInstallation{TenantID: c.Tenant, Name: p.Name, Version: p.Spec.Version, Digest: p.Digest,
		InstalledAt: now, InstalledBy: c.Actor(), UpdatedAt: now}
	for _, f := range p.Files {
		in.Files = append(in.Files, store.PackFile{Path: f.Path, Data: f.Data})
	}
	err := s.content.ChangeContent(ctx, c.Actor(), func(ctx context.Context, tx store.Tx) error {
		var old *store.PackInstallation
		cur, err := tx.GetPackInstallation(ctx, c.Tenant, p.Name)
		switch {
		case err == nil:
			old = &cur
			in.InstalledAt, in.InstalledBy = cur.InstalledAt, cur.InstalledBy
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := check(old); err != nil {
			return err
		}
		if err := tx.PutPackInstallation(ctx, in); err != nil {
			return err
		}
		detail := map[string]any{"version": p.Spec.Version, "digest": p.Digest}
		e := audit.Entry{Actor: c.Actor(), Action: "pack.install", Target: "pack/" + p.Name, Detail: detail}
		if old != nil {
			e.Action, detail["from_version"] = "pack.upgrade", old.Version
		}
		_, err = audit.Append(ctx, tx, c.Tenant, now, e)
		return err
	})
	in.Files = nil
	return in, err
}

// UninstallPack removes the tenant's pack name and its documents.
func (s *Service) UninstallPack(ctx context.Context, c Caller, name string) error {
	if s.content == nil {
		return errorf(Unavailable, "this server does not install packs")
	}
	return s.content.ChangeContent(ctx, c.Actor(), func(ctx context.Context, tx store.Tx) error {
		old, err := tx.GetPackInstallation(ctx, c.Tenant, name)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(NotFound, "pack %s is not installed", name)
		} else if err != nil {
			return err
		}
		if err := tx.DeletePackInstallation(ctx, c.Tenant, name); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, c.Tenant, s.now(), audit.Entry{Actor: c.Actor(), Action: "pack.uninstall", Target: "pack/" + name,
			Detail: map[string]any{"version": old.Version, "digest": old.Digest}})
		return err
	})
}

// DiffPack lists, document by document, what upgrading the tenant's
// installed pack name to the catalogue's (or the request's) would change.
func (s *Service) DiffPack(ctx context.Context, c Caller, name string, req PackRequest) (PackDiff, error) {
	p, err := candidate(name, req)
	if err != nil {
		return PackDiff{}, err
	}
	in, err := s.st.GetPackInstallation(ctx, c.Tenant, name)
	if errors.Is(err, store.ErrNotFound) {
		return PackDiff{}, errorf(NotFound, "pack %s is not installed; nothing to compare with", name)
	} else if err != nil {
		return PackDiff{}, err
	}
	old, err := installedPack(in)
	if err != nil {
		return PackDiff{}, err
	}
	return PackDiff{Name: name, From: in.Version, To: p.Spec.Version, Downgrade: pack.Compare(p.Spec.Version, in.Version) < 0,
		Changes: pack.Diff(old, p)}, nil
}
