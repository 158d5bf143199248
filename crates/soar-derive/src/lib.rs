//! The derive macros of command declarations (used through `soar-integration-kit`, whose
//! `__private` module the generated code names, so an integration needs no other dependency).
//!
//! `#[derive(Args)]` on a struct with named fields writes `soar_core::args::Args`: the struct's
//! doc comment is the command's description; each field is one argument whose name is the
//! field's (or `#[arg(name = "...")]`), whose description is the field's doc comment, and whose
//! `required`, `isArray` and `options` come from its type (`soar_core::args::FromArg`) unless
//! `#[arg(...)]` says otherwise:
//!
//! ```text
//! /// Gets one user.
//! #[derive(Args)]
//! pub struct Get {
//!     /// The user's ID or user principal name.
//!     user: String,
//!     /// The properties to return, comma-separated.
//!     #[arg(default = "*")]
//!     properties: String,
//!     /// Whether to include disabled users.
//!     #[arg(options = ["true", "false"])]
//!     disabled: Option<bool>,
//! }
//! ```
//!
//! Field attributes: `default = "text"` (the value when not given; makes the argument
//! optional), `options = [..]` or `options = CONST` (fixed values), `secret` (never logged or
//! shown), `name = "text"` (an argument name that is not a Rust field name), `array` (a
//! comma-separated list read as text), `required` (required although the type is optional),
//! `flatten` (the field is itself an `Args` struct whose arguments are shared by several
//! commands; they are listed where the field stands).
//!
//! `#[derive(Choice)]` on an enum of unit variants writes `soar_core::args::Choice` and
//! `FromArg`: each variant's value is its name or `#[arg(name = "...")]`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, LitStr, parse_macro_input};

/// Derives `soar_core::args::Args` (see the crate docs).
#[proc_macro_derive(Args, attributes(arg))]
pub fn derive_args(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    args_impl(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives `soar_core::args::Choice` and `FromArg` for an enum of unit variants.
#[proc_macro_derive(Choice, attributes(arg))]
pub fn derive_choice(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    choice_impl(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The doc comment of an item, its lines trimmed and joined with spaces (a blank line keeps a
/// paragraph break as a newline).
fn doc_text(attrs: &[Attribute]) -> String {
    let mut out = String::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let syn::Meta::NameValue(nv) = &attr.meta else { continue };
        let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value else { continue };
        let line = s.value();
        let line = line.trim();
        if line.is_empty() {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    out.trim_end().to_owned()
}

/// What `#[arg(...)]` says of one field or variant.
#[derive(Default)]
struct ArgAttr {
    name: Option<LitStr>,
    default: Option<LitStr>,
    options: Option<Expr>,
    secret: bool,
    array: bool,
    required: bool,
    flatten: bool,
}

fn arg_attr(attrs: &[Attribute]) -> syn::Result<ArgAttr> {
    let mut out = ArgAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("arg")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("default") {
                out.default = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("options") {
                out.options = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("secret") {
                out.secret = true;
            } else if meta.path.is_ident("array") {
                out.array = true;
            } else if meta.path.is_ident("required") {
                out.required = true;
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else {
                return Err(meta.error(
                    "unknown #[arg] key; use name, default, options, secret, array, required or flatten",
                ));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn args_impl(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "#[derive(Args)] needs a struct"));
    };
    let fields: Vec<&syn::Field> = match &data.fields {
        Fields::Named(named) => named.named.iter().collect(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(&input.ident, "#[derive(Args)] needs named fields"));
        }
    };
    let ident = &input.ident;
    let description = doc_text(&input.attrs);
    if description.is_empty() {
        return Err(syn::Error::new_spanned(
            ident,
            "a command needs a description: write it as the struct's doc comment",
        ));
    }
    let k = quote!(::soar_integration_kit::__private);
    let mut specs = Vec::new();
    let mut decodes = Vec::new();
    for field in fields {
        let Some(field_ident) = &field.ident else { continue };
        let attr = arg_attr(&field.attrs)?;
        let ty = &field.ty;
        if attr.flatten {
            // Arguments shared by several commands, declared once in their own struct.
            specs.push(quote!(specs.extend(<#ty as #k::Args>::specs());));
            decodes.push(quote!(#field_ident: <#ty as #k::Args>::decode(args, cx)?));
            continue;
        }
        let name = match &attr.name {
            Some(n) => n.value(),
            None => field_ident.to_string().trim_start_matches("r#").to_owned(),
        };
        let description = doc_text(&field.attrs);
        if description.is_empty() {
            return Err(syn::Error::new_spanned(
                field_ident,
                "an argument needs a description: write it as the field's doc comment",
            ));
        }
        let default = match &attr.default {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        let has_default = attr.default.is_some();
        let forced = attr.required;
        let required = quote!(#forced || (!#has_default && <#ty as #k::FromArg>::REQUIRED));
        let options = match &attr.options {
            Some(Expr::Array(arr)) => quote!(&#arr),
            Some(other) => quote!(#other),
            None => quote!(<#ty as #k::FromArg>::OPTIONS),
        };
        let array = attr.array;
        let secret = attr.secret;
        specs.push(quote! {
            specs.push(#k::ArgSpec {
                name: #name,
                description: #description,
                required: #required,
                default: #default,
                options: #options,
                is_array: #array || <#ty as #k::FromArg>::IS_ARRAY,
                secret: #secret,
            });
        });
        let read = if forced {
            // Required although the type could be absent: a missing value is an error.
            quote! {
                match args.get(#name) {
                    ::core::option::Option::Some(v) if !#k::is_blank(v) => {
                        <#ty as #k::FromArg>::from_arg(#name, v, cx)?
                    }
                    _ => return ::core::result::Result::Err(#k::Error::MissingArg(#name.to_owned())),
                }
            }
        } else if let Some(d) = &attr.default {
            quote!(#k::decode_field_or::<#ty>(args, #name, #d, cx)?)
        } else {
            quote!(#k::decode_field::<#ty>(args, #name, cx)?)
        };
        decodes.push(quote!(#field_ident: #read));
    }
    let construct = match &data.fields {
        Fields::Unit => quote!(#ident),
        _ => quote!(#ident { #(#decodes,)* }),
    };
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_g #k::Args for #ident #ty_g #where_g {
            const DESCRIPTION: &'static str = #description;

            fn specs() -> ::std::vec::Vec<#k::ArgSpec> {
                let mut specs = ::std::vec::Vec::new();
                #(#specs)*
                specs
            }

            #[allow(unused_variables)]
            fn decode(
                args: &#k::Object,
                cx: &#k::ArgContext<'_>,
            ) -> ::core::result::Result<Self, #k::Error> {
                ::core::result::Result::Ok(#construct)
            }
        }
    })
}

fn choice_impl(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "#[derive(Choice)] needs an enum"));
    };
    let ident = &input.ident;
    let k = quote!(::soar_integration_kit::__private);
    let mut values = Vec::new();
    let mut to_text = Vec::new();
    let mut from_text = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(variant, "#[derive(Choice)] variants take no fields"));
        }
        let v = &variant.ident;
        let text = match arg_attr(&variant.attrs)?.name {
            Some(n) => n.value(),
            None => v.to_string(),
        };
        values.push(text.clone());
        to_text.push(quote!(#ident::#v => #text));
        from_text.push(quote!(#text => ::core::option::Option::Some(#ident::#v)));
    }
    Ok(quote! {
        impl #k::Choice for #ident {
            const VALUES: &'static [&'static str] = &[#(#values),*];

            fn as_str(self) -> &'static str {
                match self { #(#to_text,)* }
            }

            fn from_text(text: &str) -> ::core::option::Option<Self> {
                match text { #(#from_text,)* _ => ::core::option::Option::None }
            }
        }

        impl #k::FromArg for #ident {
            const OPTIONS: &'static [&'static str] = <#ident as #k::Choice>::VALUES;

            fn from_arg(
                name: &str,
                value: &#k::Value,
                _: &#k::ArgContext<'_>,
            ) -> ::core::result::Result<Self, #k::Error> {
                #k::choice_from_arg(name, value)
            }
        }
    })
}
