package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// packSources are the packs installed for every tenant, each a content
// source scoped to its tenant, loaded after the built-in library and
// before the content directory.
func packSources(ctx context.Context, r store.PackReader) ([]content.Source, error) {
	installed, err := r.ListAllPackInstallations(ctx)
	if err != nil {
		return nil, fmt.Errorf("installed packs: %w", err)
	}
	out := make([]content.Source, 0, len(installed))
	for _, in := range installed {
		files := make([]pack.File, len(in.Files))
		for i, f := range in.Files {
			files[i] = pack.File{Path: f.Path, Data: f.Data}
		}
		out = append(out, pack.FilesSource(in.Name, in.TenantID, files))
	}
	return out, nil
}

// checkPackNames refuses a pack document that replaces another pack's:
// two packs installed for one tenant that share a document's kind and
// name would leave one of them without it. (The same pack installed for
// two tenants is two copies: a pack's kinds are one per tenant.)
func checkPackNames(set *content.Set) error {
	var errs []error
	for _, kind := range set.Kinds() {
		for _, it := range set.Items(kind) {
			if !pack.IsSource(it.Origin.Source) {
				continue
			}
			for _, o := range it.Overrides {
				if pack.IsSource(o.Source) {
					errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf(
						"%s %q is also defined by %s, installed for the same tenant: two packs of one tenant cannot share a document name",
						kind, it.Name, o.Source)})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// ChangeContent implements service.ContentChanger: change writes (a pack
// installed, upgraded or removed, and its audit record) in one transaction
// that also loads the content as it will be and bumps the content
// generation; content that would not load rolls the change back and is
// refused. Every replica then loads the new content (watchContent).
func (a *App) ChangeContent(ctx context.Context, actor string, change func(ctx context.Context, tx store.Tx) error) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	var d derived
	var gen store.ContentGeneration
	err := a.st.InTx(ctx, func(tx store.Tx) error {
		if err := change(ctx, tx); err != nil {
			return err
		}
		var err error
		if d, err = a.derive(ctx, tx); err != nil {
			return &service.Error{Kind: service.Invalid, Msg: "the content would not load with this change, which is refused:\n" + err.Error(), Err: err}
		}
		gen, err = tx.BumpContentGeneration(ctx, d.set.Digest(), a.now(), actor)
		return err
	})
	if err != nil {
		return err
	}
	if err := a.apply(ctx, d, gen.Generation); err != nil {
		return err
	}
	a.log.Info("content changed", "generation", gen.Generation, "digest", d.set.Digest(), "by", actor)
	return nil
}
