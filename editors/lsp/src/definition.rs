//! textDocument/definition: from a pool reference (`pool web` in a service, `on pool
//! web` in a mount) to the pool's definition.

use lsp_types::{GotoDefinitionParams, GotoDefinitionResponse, Location};

use crate::{Documents, range, word_at};

/// Where the pool named under the cursor is defined.
pub fn definition(docs: &Documents, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let pos = p.text_document_position_params;
    let text = docs.get(pos.text_document.uri.as_str())?;
    let (s, e) = word_at(text, pos.position)?;
    let ast = lvsc_lang::parse(text).ast;
    let refs = ast
        .services
        .iter()
        .filter_map(|svc| svc.pool.as_ref())
        .chain(
            ast.storage
                .iter()
                .flat_map(|st| st.mounts.iter().map(|m| &m.pool)),
        );
    let name = refs
        .into_iter()
        .find(|r| r.span.start() <= s && e <= r.span.end())?;
    let pool = ast.pools.iter().find(|p| p.name.value == name.value)?;
    Some(GotoDefinitionResponse::Scalar(Location::new(
        pos.text_document.uri.clone(),
        range(text, pool.name.span),
    )))
}
