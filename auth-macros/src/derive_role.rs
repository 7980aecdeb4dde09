//! `#[derive(Role)]`: an enum's variants as role names.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    try_expand(input).unwrap_or_else(syn::Error::into_compile_error)
}

fn try_expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Role)] goes on an enum whose variants are roles, e.g. enum Role \
             { Admin, Viewer }",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a role enum takes no generic parameters",
        ));
    }
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "a role enum needs at least one variant",
        ));
    }

    let mut names = Vec::new();
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                &variant.fields,
                "role variants carry no data: write the variant alone, e.g. Admin",
            ));
        }
        let name = role_name(variant)?;
        if let Some(first) = seen.insert(name.clone(), &variant.ident) {
            return Err(syn::Error::new_spanned(
                &variant.ident,
                format!(
                    "role name \"{name}\" is already used by variant `{first}`: give each variant \
                     its own #[role(\"...\")]"
                ),
            ));
        }
        names.push(name);
    }

    let ident = &input.ident;
    let variants: Vec<&syn::Ident> = data.variants.iter().map(|v| &v.ident).collect();
    let indexes = 0..variants.len();
    let idents = variants.iter().map(|v| v.to_string());
    // `name()` and `NAMES` are inherent too, so they work without importing the trait.
    Ok(quote! {
        impl ::auth_actix::RoleEnum for #ident {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const VARIANTS: &'static [&'static str] = &[#(#idents),*];

            fn name(&self) -> &'static str {
                <Self as ::auth_actix::RoleEnum>::NAMES[self.__auth_role_index()]
            }
        }

        impl #ident {
            /// Every variant's role name, in declaration order.
            pub const NAMES: &'static [&'static str] = <Self as ::auth_actix::RoleEnum>::NAMES;

            /// This variant's role name.
            pub fn name(&self) -> &'static str {
                <Self as ::auth_actix::RoleEnum>::name(self)
            }

            #[doc(hidden)]
            pub const fn __auth_role_index(&self) -> usize {
                match self {
                    #(#ident::#variants => #indexes,)*
                }
            }
        }
    })
}

fn role_name(variant: &syn::Variant) -> syn::Result<String> {
    let mut explicit = None;
    for attr in variant
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("role"))
    {
        if explicit.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "one #[role(\"...\")] per variant",
            ));
        }
        let lit: LitStr = attr.parse_args().map_err(|err| {
            syn::Error::new(
                err.span(),
                "write the role name as a string: #[role(\"admin\")]",
            )
        })?;
        if lit.value().trim().is_empty() {
            return Err(syn::Error::new_spanned(
                &lit,
                "empty role name: write the role, e.g. #[role(\"admin\")]",
            ));
        }
        explicit = Some(lit.value());
    }
    Ok(explicit.unwrap_or_else(|| snake_case(&variant.ident.to_string())))
}

/// `SuperAdmin` → `super_admin`, `HTTPAdmin` → `http_admin`.
fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_cases_variant_names() {
        assert_eq!(snake_case("Admin"), "admin");
        assert_eq!(snake_case("SuperAdmin"), "super_admin");
        assert_eq!(snake_case("HTTPAdmin"), "http_admin");
        assert_eq!(snake_case("Level2Admin"), "level2_admin");
    }
}
